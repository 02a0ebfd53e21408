//! `outbox_events`: the typed events services record in their transactions, and the
//! expander's bookkeeping of them (pending, failed, processed).

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::db::entities::outbox_events::{self, Column as C};

/// Records an event of `kind` with its serialized `payload`, unprocessed.
pub async fn insert(db: &impl ConnectionTrait, kind: &str, payload: String) -> Result<(), DbErr> {
    outbox_events::Entity::insert(outbox_events::ActiveModel {
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        created_at: Set(Utc::now()),
        processed_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The oldest `limit` events not yet processed, in the order they were recorded.
pub async fn pending(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<outbox_events::Model>, DbErr> {
    outbox_events::Entity::find().filter(C::ProcessedAt.is_null()).order_by_asc(C::Id).limit(limit).all(db).await
}

/// Whether a failed event is tried again or set aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Left unprocessed, for the next pass.
    Retry,
    /// Marked processed with its error, for an operator to look at.
    SetAside,
}

/// Counts a failed attempt at event `id` and keeps its error.
pub async fn record_failure(db: &impl ConnectionTrait, id: i64, error: &str, then: AfterFailure) -> Result<(), DbErr> {
    let mut update = outbox_events::Entity::update_many()
        .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
        .col_expr(C::LastError, Expr::value(error))
        .filter(C::Id.eq(id));
    if then == AfterFailure::SetAside {
        update = update.col_expr(C::ProcessedAt, Expr::value(Utc::now()));
    }
    update.exec(db).await?;
    Ok(())
}

/// Marks event `id` processed.
pub async fn mark_processed(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    outbox_events::Entity::update_many()
        .col_expr(C::ProcessedAt, Expr::value(Utc::now()))
        .filter(C::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
