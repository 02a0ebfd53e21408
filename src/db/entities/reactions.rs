//! `reactions`: remote `Like`s and `Announce`s of posts, one per (post, actor, kind), with the
//! activity id so an `Undo` finds it. `posts.likes_count` / `announces_count` mirror them.

use sea_orm::entity::prelude::*;

/// One like or announce.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    /// The (remote) actor who liked or announced.
    pub actor_id: i64,
    /// `like` or `announce` (`KIND_LIKE`, `KIND_ANNOUNCE`).
    pub kind: String,
    /// The id of the `Like` or `Announce` activity.
    pub ap_id: String,
    pub created_at: DateTimeUtc,
}

/// `kind` of a like.
pub const KIND_LIKE: &str = "like";
/// `kind` of an announce (boost).
pub const KIND_ANNOUNCE: &str = "announce";

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::posts::Entity",
        from = "Column::PostId",
        to = "super::posts::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Actor,
}

impl ActiveModelBehavior for ActiveModel {}
