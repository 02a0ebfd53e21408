//! Remembered `Delete`s of objects we never stored (FEDERATION.md I13).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::OnConflict,
};

use crate::db::entities::deleted_objects;

/// Remembers that `actor_id` deleted `ap_id` at `now` (the latest `Delete` wins).
pub async fn remember(db: &impl ConnectionTrait, ap_id: &str, actor_id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    let row =
        deleted_objects::ActiveModel { ap_id: Set(ap_id.to_owned()), actor_id: Set(actor_id), deleted_at: Set(now) };
    deleted_objects::Entity::insert(row)
        .on_conflict(
            OnConflict::column(deleted_objects::Column::ApId)
                .update_columns([deleted_objects::Column::ActorId, deleted_objects::Column::DeletedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Of `(ap_id, author id)` pairs, the ids their own author deleted after `since`.
pub async fn deleted_by_author<'a>(
    db: &impl ConnectionTrait,
    notes: impl IntoIterator<Item = (&'a str, i64)>,
    since: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    let notes: Vec<(&str, i64)> = notes.into_iter().collect();
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(String, i64)> = deleted_objects::Entity::find()
        .select_only()
        .column(deleted_objects::Column::ApId)
        .column(deleted_objects::Column::ActorId)
        .filter(deleted_objects::Column::ApId.is_in(notes.iter().map(|(id, _)| *id)))
        .filter(deleted_objects::Column::DeletedAt.gt(since))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .filter(|(ap_id, by)| notes.iter().any(|(id, author)| id == ap_id && author == by))
        .map(|(ap_id, _)| ap_id)
        .collect())
}
