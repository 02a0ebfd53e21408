//! `inbox_activities`: every verified inbound activity, stored before we answer 202 and
//! processed later by the inbox worker. The unique `ap_id` deduplicates redeliveries.
//! Once processed for good the payload is emptied; the row itself is purged after the
//! configured retention (`federation::retention`, FEDERATION.md I12).

use sea_orm::entity::prelude::*;

/// One received activity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ap_id: String,
    pub activity_type: String,
    /// The activity's `actor`, which is the id of the actor that verified it.
    pub actor_ap_id: String,
    /// The row of the actor whose key verified the request (I6): the worker acts as this
    /// actor. `None` only for rows stored before it was recorded.
    pub actor_id: Option<i64>,
    /// The raw JSON as received; empty once the row is processed for good.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub state: InboxState,
    pub attempts: i32,
    pub received_at: DateTimeUtc,
    /// Not to be processed before this time (retries back off).
    pub available_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub processed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
}

/// Where a received activity stands (stored as the strings below).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum InboxState {
    /// Waiting for the worker (or for its next attempt).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Processed with an effect.
    #[sea_orm(string_value = "done")]
    Done,
    /// A type or target we do not handle.
    #[sea_orm(string_value = "ignored")]
    Ignored,
    /// Given up: a permanent error, or too many attempts.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl InboxState {
    /// The stored string, for raw SQL.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Ignored => "ignored",
            Self::Failed => "failed",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
