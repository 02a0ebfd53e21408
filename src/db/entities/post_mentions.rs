//! `post_mentions`: the actors a post mentions (each gets a `Mention` tag and the post).

use sea_orm::entity::prelude::*;

/// One mention.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_mentions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    /// The mentioned actor.
    pub actor_id: i64,
    /// The mentioned actor's id (the `Mention` tag's `href`).
    pub href: String,
    /// `@user@host`.
    pub name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Actor,
}

impl ActiveModelBehavior for ActiveModel {}
