//! Retention (FEDERATION.md I12, I13): what the inbox keeps is bounded in time.
//!
//! - A processed inbox row (done, ignored, or failed for good) has already lost its payload
//!   when its outcome was written (the inbox worker's `Outcomes::write`); its id stays for deduplication
//!   (I10) and the row is purged here once it was processed longer ago than
//!   `inbox_retention_days` (at least 7). Pending rows are never purged.
//! - A remembered `Delete` (`deleted_objects`) is purged once older than
//!   [`remote_notes::DELETE_REMEMBERED`].
//!
//! ```text
//! every TICK ─► DELETE … WHERE id IN (≤ BATCH old processed rows)  ─┐ one write turn per
//!            ─► DELETE … WHERE ap_id IN (≤ BATCH old deletes)       ─┘ batch, until none is left
//! ```
//!
//! Deletes go in batches of [`BATCH`] rows, each in its own short write turn
//! (`db::writer`), so the task never holds SQLite's write turn for long: the inbox and the
//! workers queued behind it wait for one batch at most. Several processes may run it at
//! once; a row is deleted by whichever gets there first.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait},
};
use tokio::sync::watch;

use crate::{
    db::{entities::deleted_objects, queries},
    services::remote_notes,
};

/// How often the task looks for rows past their retention.
pub const TICK: StdDuration = StdDuration::from_secs(3600);
/// Rows deleted per statement (and per write turn).
pub const BATCH: u64 = 500;

/// How long what the inbox keeps is kept.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    /// A processed inbox row (its id, for deduplication) is kept this long after processing.
    pub inbox: Duration,
}

impl Retention {
    /// From the configuration (`inbox_retention_days`, validated to be at least 7).
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self { inbox: Duration::days(i64::from(config.inbox_retention_days)) }
    }
}

/// Rows one pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Processed inbox rows.
    pub inbox_rows: u64,
    /// Remembered `Delete`s.
    pub deletes: u64,
}

/// Purges at start, then every [`TICK`], until `shutdown` turns true.
pub async fn run(db: DatabaseConnection, retention: Retention, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(inbox_days = retention.inbox.num_days(), "retention task started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        match purge(&db, retention, Utc::now(), &shutdown).await {
            Ok(purged) if purged != Purged::default() => tracing::info!(?purged, "retention: old rows purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention: will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("retention task stopped");
}

/// Deletes, batch by batch, the rows past their retention at `now`; stops early when
/// `shutdown` turns true.
pub async fn purge(
    db: &DatabaseConnection,
    retention: Retention,
    now: DateTime<Utc>,
    shutdown: &watch::Receiver<bool>,
) -> Result<Purged, DbErr> {
    let mut purged = Purged::default();
    let processed_before = now - retention.inbox;
    loop {
        let deleted = purge_inbox_batch(db, processed_before).await?;
        purged.inbox_rows += deleted;
        if deleted < BATCH || *shutdown.borrow() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let deleted_before = now - remote_notes::DELETE_REMEMBERED;
    loop {
        let deleted = purge_deletes_batch(db, deleted_before).await?;
        purged.deletes += deleted;
        if deleted < BATCH || *shutdown.borrow() {
            break;
        }
        tokio::task::yield_now().await;
    }
    Ok(purged)
}

/// One batch of processed inbox rows, by the `processed_at` index; never a pending row.
async fn purge_inbox_batch(db: &DatabaseConnection, processed_before: DateTime<Utc>) -> Result<u64, DbErr> {
    let writer = crate::db::writer(db).await?;
    queries::inbox::purge_processed(writer.connection(), processed_before, BATCH).await
}

/// One batch of remembered `Delete`s past their window.
async fn purge_deletes_batch(db: &DatabaseConnection, deleted_before: DateTime<Utc>) -> Result<u64, DbErr> {
    use deleted_objects::Column as C;
    let old = deleted_objects::Entity::find()
        .select_only()
        .column(C::ApId)
        .filter(C::DeletedAt.lt(deleted_before))
        .limit(BATCH)
        .into_query();
    let writer = crate::db::writer(db).await?;
    let result = deleted_objects::Entity::delete_many()
        .filter(Expr::col(C::ApId).in_subquery(old))
        .exec(writer.connection())
        .await?;
    Ok(result.rows_affected)
}
