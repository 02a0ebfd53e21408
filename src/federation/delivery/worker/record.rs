//! Writing the outcome of an attempt: successes through one recorder task, many rows per
//! transaction; failures and postponements one row at a time, each in its own write turn.
//! A crash before the recorder writes only means those rows are sent again when their
//! leases expire (at least once, D4).

use std::{collections::HashMap, time::Duration as StdDuration};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;

use super::Shared;
use crate::db::{
    entities::deliveries::{self, DeliveryState},
    queries::{self, deliveries::AttemptRecord},
};

/// Successes waiting for the recorder: (delivery id, HTTP status).
pub(super) type Delivered = (i64, u16);

/// Successes written per transaction at most.
const RECORD_BATCH: usize = 512;
/// How long the recorder gathers successes before writing them.
const RECORD_DELAY: StdDuration = StdDuration::from_millis(20);

/// Whether a postponed delivery was tried, and so counts against `MAX_ATTEMPTS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Attempt {
    /// Sent (or sending failed): the attempt counts.
    Made,
    /// Held back before sending (the host's circuit breaker is open): it does not.
    HeldBack,
}

/// Writes successes in batches until every sender is gone.
pub(super) async fn record(db: DatabaseConnection, mut delivered: mpsc::UnboundedReceiver<Delivered>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while let Some(first) = delivered.recv().await {
        batch.push(first);
        tokio::time::sleep(RECORD_DELAY).await;
        while batch.len() < RECORD_BATCH {
            match delivered.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let mut tries = 0;
        while let Err(e) = write_delivered(&db, &batch).await {
            tries += 1;
            if tries >= 5 {
                tracing::warn!(error = %e, rows = batch.len(), "cannot record deliveries; they are resent when their leases expire");
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(100 * tries)).await;
        }
        batch.clear();
    }
}

/// Marks rows delivered, one statement per status code, in one transaction.
async fn write_delivered(db: &DatabaseConnection, batch: &[Delivered]) -> Result<(), DbErr> {
    let mut by_status: HashMap<u16, Vec<i64>> = HashMap::new();
    for (id, status) in batch {
        by_status.entry(*status).or_default().push(*id);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    for (status, ids) in by_status {
        queries::deliveries::mark_delivered(&txn, ids, i32::from(status), now).await?;
    }
    txn.commit().await
}

/// Finishes a delivery in `state` (delivered, or failed for good) after this attempt.
pub(super) async fn finish(
    shared: &Shared,
    row: &deliveries::Model,
    state: DeliveryState,
    status: Option<u16>,
    error: Option<String>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let record = AttemptRecord { attempts: row.attempts + 1, status: status.map(i32::from), error };
    let writer = crate::db::writer(&shared.ctx.db).await?;
    queries::deliveries::finish(writer.connection(), row.id, state, record, now).await
}

/// Leaves a delivery pending until `at`; `attempt` says whether this one counts.
pub(super) async fn postpone(
    shared: &Shared,
    row: &deliveries::Model,
    at: DateTime<Utc>,
    attempt: Attempt,
    status: Option<u16>,
    error: Option<String>,
) -> Result<(), DbErr> {
    let attempts = match attempt {
        Attempt::Made => row.attempts + 1,
        Attempt::HeldBack => row.attempts,
    };
    let record = AttemptRecord { attempts, status: status.map(i32::from), error };
    let writer = crate::db::writer(&shared.ctx.db).await?;
    queries::deliveries::postpone(writer.connection(), row.id, at, record).await
}
