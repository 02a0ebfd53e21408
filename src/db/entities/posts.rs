//! `posts`: product updates written here and copies of remote notes (replies and mentions),
//! threaded by parent link, thread root and depth (docs/adr/0008-remote-notes-and-threads.md).

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
    pub visibility: crate::domain::Visibility,
    pub in_reply_to_ap_id: Option<String>,
    /// When it went out; `None` while it waits for `scheduled_at`.
    pub published_at: Option<DateTimeUtc>,
    pub scheduled_at: Option<DateTimeUtc>,
    pub edited_at: Option<DateTimeUtc>,
    /// Soft delete: the URL answers 410 with a Tombstone.
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// A remote note's human-readable URL (`url`), when it gave one.
    pub url: Option<String>,
    /// The parent row, once known (`in_reply_to_ap_id` says what it should be). An orphan
    /// has `in_reply_to_ap_id` set and this `None`; it is re-linked when the parent arrives.
    pub in_reply_to_post_id: Option<i64>,
    /// The root of the thread this post is in; `None` for a root (a post with no known
    /// parent, including an orphan, which roots its own subtree until re-linked).
    pub thread_root_id: Option<i64>,
    /// Distance from `thread_root_id` (0 for a root).
    pub depth: i32,
    /// Remote `Like`s counted in `reactions`, kept in the same transaction.
    pub likes_count: i32,
    /// Remote `Announce`s counted in `reactions`, kept in the same transaction.
    pub announces_count: i32,
    /// A remote note's attachments as a JSON array of `{url, media_type, name}` (referenced,
    /// never fetched or hot-linked); `None` for local posts (they use `media`).
    #[sea_orm(column_type = "Text", nullable)]
    pub attachments: Option<String>,
    /// An orphan whose parent is still to be fetched: when the continuation worker may try.
    pub parent_fetch_after: Option<DateTimeUtc>,
    /// Continuation attempts made for this orphan's parent.
    pub parent_fetch_attempts: i32,
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
