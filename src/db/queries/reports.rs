//! Reports (`Flag`s) received for moderators.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::entities::reports;

/// A new report, as received.
#[derive(Clone, Debug)]
pub struct NewReport {
    pub ap_id: String,
    pub reporter_actor_id: i64,
    pub target_actor_id: Option<i64>,
    pub content: String,
    /// JSON array of the object ids it names.
    pub object_ap_ids_json: String,
}

/// Whether the report `ap_id` is stored.
pub async fn exists(db: &impl ConnectionTrait, ap_id: &str) -> Result<bool, DbErr> {
    Ok(reports::Entity::find().filter(reports::Column::ApId.eq(ap_id)).one(db).await?.is_some())
}

/// Stores a report, unresolved.
pub async fn insert(db: &impl ConnectionTrait, report: NewReport, received_at: DateTime<Utc>) -> Result<(), DbErr> {
    reports::Entity::insert(reports::ActiveModel {
        ap_id: Set(report.ap_id),
        reporter_actor_id: Set(report.reporter_actor_id),
        target_actor_id: Set(report.target_actor_id),
        content: Set(report.content),
        object_ap_ids: Set(report.object_ap_ids_json),
        received_at: Set(received_at),
        resolved_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Reports, newest first.
pub async fn newest(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<reports::Model>, DbErr> {
    reports::Entity::find().order_by_desc(reports::Column::Id).limit(limit).all(db).await
}
