//! `follows`: who follows whom, local or remote on either side.

use sea_orm::entity::prelude::*;

/// Where a follow relation stands, stored as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum FollowState {
    /// Asked, not yet accepted: a request to a locked account of ours, or our request to a
    /// remote actor that has not answered.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The follower receives the followee's posts.
    #[sea_orm(string_value = "accepted")]
    Accepted,
}

impl FollowState {
    /// The stored string, for raw SQL and output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
        }
    }
}

/// One follow relation. `state` is pending until accepted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub follower_id: i64,
    pub followee_id: i64,
    pub state: FollowState,
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
