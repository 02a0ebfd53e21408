//! `posts`: product updates written here (and, later, copies of remote posts).

use sea_orm::entity::prelude::*;

/// One post. A post is public on the wire once `published_at` is set and `deleted_at` is not.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The Note's id (a URL), unique.
    #[sea_orm(unique)]
    pub ap_id: String,
    /// The author.
    pub actor_id: i64,
    pub local: bool,
    /// What the author wrote (Markdown).
    #[sea_orm(column_type = "Text")]
    pub content_source: String,
    /// The sanitized HTML rendering of `content_source`.
    #[sea_orm(column_type = "Text")]
    pub content_html: String,
    /// The content warning, if any.
    #[sea_orm(column_type = "Text", nullable)]
    pub summary: Option<String>,
    pub sensitive: bool,
    /// `public`, `unlisted` or `followers` (`domain::Visibility`).
    pub visibility: String,
    pub in_reply_to_ap_id: Option<String>,
    /// When it went out; `None` while it waits for `scheduled_at`.
    pub published_at: Option<DateTimeUtc>,
    pub scheduled_at: Option<DateTimeUtc>,
    pub edited_at: Option<DateTimeUtc>,
    /// Soft delete: the URL answers 410 with a Tombstone.
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Author,
}

impl ActiveModelBehavior for ActiveModel {}
