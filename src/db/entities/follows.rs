//! `follows`: who follows whom, local or remote on either side.

use sea_orm::entity::prelude::*;

/// One follow relation. `state` is `pending` until accepted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub follower_id: i64,
    pub followee_id: i64,
    /// `pending` or `accepted`.
    pub state: String,
    /// The id of the `Follow` activity (theirs for inbound follows, ours for outbound).
    pub follow_ap_id: String,
    pub created_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::FollowerId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Follower,
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::FolloweeId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Followee,
}

impl ActiveModelBehavior for ActiveModel {}
