//! `deliveries`: one row per (activity, inbox): leased by a worker, retried with backoff.

use sea_orm::entity::prelude::*;

/// One delivery of one activity to one inbox.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub inbox_url: String,
    /// `host[:port]` of the inbox, for per-host limits and health.
    pub host: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

/// Where a delivery stands (stored as the strings below).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliveryState {
    /// Waiting to be delivered (or retried).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Accepted by the inbox.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Given up: permanent refusal, too many attempts, or an unavailable host.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl DeliveryState {
    /// The stored string, for raw SQL.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
