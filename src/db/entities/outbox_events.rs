//! `outbox_events`: what services record happened (a post published, a follow accepted…),
//! in the same transaction as the change. The federation wing turns each into an activity
//! and its deliveries; services never build activities themselves.

use sea_orm::entity::prelude::*;

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The event's kind, e.g. `follow_accepted`.
    pub kind: String,
    /// JSON of the typed event (`services::outbox::OutboxEvent`).
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub created_at: DateTimeUtc,
    /// Set once the event became an activity with its deliveries.
    pub processed_at: Option<DateTimeUtc>,
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
