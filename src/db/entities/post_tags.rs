//! `post_tags`: the hashtags of a post.

use sea_orm::entity::prelude::*;

/// One hashtag on one post.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_tags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    /// The tag without `#`, lower-cased.
    pub name: String,
    /// Our tag page, `<public_url>/tags/<name>`.
    pub href: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
