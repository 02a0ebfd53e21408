//! The inbox worker: leases rounds of stored activities, hands each round to
//! `activities::dispatch_round` (which keeps their order), and writes the outcomes
//! ([`Outcomes`]) in the same transaction that leases the next round.
//!
//! Several workers (in one process or several) may run: a row is processed by whoever
//! leases it first. A worker acts as the actor recorded with the row (the one whose key
//! verified the request, I6).

use std::{collections::BTreeMap, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use tokio::sync::watch;

use crate::{
    db::{entities::inbox_activities, queries},
    federation::{activities, context::FederationContext},
};

/// Attempts before an inbound activity is given up on.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a worker owns a leased row.
const LEASE: Duration = Duration::seconds(60);
/// Rows leased per round (one statement), processed in order and finished together.
const BATCH: u64 = 64;
/// A round stops taking up leased rows after this long and gives the rest back, so that
/// no row is still being worked on when its lease runs out.
const ROUND_BUDGET: StdDuration = StdDuration::from_secs(30);

/// Processes stored activities until `shutdown` turns true. Several workers (in one process
/// or several) may run: a row is processed by whoever leases it first.
///
/// The outcomes of a round are written in the same transaction that leases the next one
/// (one write turn instead of two per round); before the worker sleeps or stops, that
/// transaction has run, so no outcome waits longer than the start of the next round.
pub async fn run_worker(ctx: FederationContext, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("inbox worker started");
    let mut unfinished = Outcomes::default();
    let mut failures = 0;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let processed = match round(&ctx, &mut unfinished).await {
            Ok(n) => {
                failures = 0;
                n
            }
            Err(e) => {
                tracing::warn!(error = %e, "inbox worker: database error");
                failures += 1;
                if failures >= 3 {
                    // Do not let outcomes that cannot be written stop the worker: their rows
                    // are processed again once their lease runs out (handlers are idempotent).
                    unfinished = Outcomes::default();
                }
                0
            }
        };
        if processed == 0 {
            tokio::select! {
                _ = ctx.inbox_wakeup.notified() => {}
                _ = tokio::time::sleep(StdDuration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    for attempt in 1..=3 {
        match unfinished.write_alone(&ctx).await {
            Ok(()) => break,
            // The rows stay leased and are processed again once their lease runs out.
            Err(e) => tracing::warn!(error = %e, attempt, "inbox worker: outcomes not written at shutdown"),
        }
    }
    tracing::info!("inbox worker stopped");
}

/// The statement that leases the next batch at `now` until `lease_until`: the oldest
/// [`BATCH`] due rows, re-checked as still leasable (`db::queries::inbox::lease`).
pub fn lease(now: DateTime<Utc>, lease_until: DateTime<Utc>) -> sea_orm::UpdateMany<inbox_activities::Entity> {
    queries::inbox::lease(now, lease_until, BATCH)
}

/// Leases, processes and finishes one batch (each step committed before this returns);
/// returns how many rows were handled.
pub async fn process_batch(ctx: &FederationContext) -> Result<usize, DbErr> {
    let mut outcomes = Outcomes::default();
    let handled = round(ctx, &mut outcomes).await?;
    outcomes.write_alone(ctx).await?;
    Ok(handled)
}

/// One round: writes `unfinished` (the previous round's outcomes) and leases a batch in one
/// transaction, processes the batch, and leaves its outcomes in `unfinished`. Returns how
/// many leased rows were handled.
///
/// The lease is `UPDATE … WHERE id IN (oldest due rows) AND still leasable RETURNING id`: a
/// row another worker leased meanwhile fails the re-check and is not returned, so each row
/// is processed by one worker. Only ids come back inside the write turn; the payloads are
/// read after it, as any reader reads. Rows are dispatched in id order.
#[tracing::instrument(skip_all, fields(leased = tracing::field::Empty))]
async fn round(ctx: &FederationContext, unfinished: &mut Outcomes) -> Result<usize, DbErr> {
    let started = std::time::Instant::now();
    let now = Utc::now();
    let lease_until = now + LEASE;
    let leasing = queries::inbox::lease_returning_ids(ctx.db.get_database_backend(), now, lease_until, BATCH);
    let txn = crate::db::begin_write(&ctx.db).await?;
    unfinished.write(&txn, now).await?;
    let ids = queries::inbox::run_lease(&txn, leasing).await?;
    txn.commit().await?;
    *unfinished = Outcomes::default();
    if ids.is_empty() {
        return Ok(0);
    }
    tracing::Span::current().record("leased", ids.len());
    let rows = queries::inbox::find_in_order(&ctx.db, ids).await?;
    let results = activities::dispatch_round(ctx, &rows, ROUND_BUDGET.saturating_sub(started.elapsed())).await;
    let mut unstarted = Vec::new();
    for (row, outcome) in rows.iter().zip(results) {
        match outcome {
            Some(outcome) => unfinished.add(row, outcome),
            None => unstarted.push(row.id),
        }
    }
    let handled = unfinished.len();
    if !unstarted.is_empty() {
        unfinished.given_back.push((unstarted, lease_until));
    }
    Ok(handled)
}

/// What becomes of a row whose handling failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterFailure {
    /// Tried again later, after a backoff that grows with its attempts.
    Retry,
    /// Given up for good: the error is permanent, or [`MAX_ATTEMPTS`] were made.
    GiveUp,
}

/// One row whose handling failed in a round.
struct Failure {
    /// The inbox row.
    id: i64,
    /// The error, kept as the row's `last_error`.
    error: String,
    /// Attempts so far (this one included).
    attempts: i32,
    after: AfterFailure,
}

/// The results of one round, grouped so that each group is finished by one statement.
#[derive(Default)]
struct Outcomes {
    done: Vec<i64>,
    ignored: BTreeMap<&'static str, Vec<i64>>,
    failed: Vec<Failure>,
    /// Rows a round did not reach, with the lease it took them under: given back as if
    /// never leased (unless leased again since).
    given_back: Vec<(Vec<i64>, DateTime<Utc>)>,
}

impl Outcomes {
    fn len(&self) -> usize {
        self.done.len() + self.ignored.values().map(Vec::len).sum::<usize>() + self.failed.len()
    }

    fn add(&mut self, row: &inbox_activities::Model, outcome: Result<activities::Handled, activities::HandleError>) {
        match outcome {
            Ok(activities::Handled::Applied) => self.done.push(row.id),
            Ok(activities::Handled::Ignored(reason)) => {
                tracing::debug!(inbox_row = row.id, activity_id = %row.ap_id, kind = %row.activity_type, reason, "activity ignored");
                self.ignored.entry(reason).or_default().push(row.id);
            }
            Err(e) => {
                let after = if !e.is_retryable() || row.attempts >= MAX_ATTEMPTS {
                    AfterFailure::GiveUp
                } else {
                    AfterFailure::Retry
                };
                tracing::warn!(inbox_row = row.id, activity_id = %row.ap_id, kind = %row.activity_type, attempts = row.attempts, error = %e, ?after, "activity failed");
                self.failed.push(Failure { id: row.id, error: e.to_string(), attempts: row.attempts, after });
            }
        }
    }

    /// Writes the outcomes in their own transaction (when nothing else is to be leased).
    async fn write_alone(&self, ctx: &FederationContext) -> Result<(), DbErr> {
        if self.len() == 0 && self.given_back.is_empty() {
            return Ok(());
        }
        let txn = crate::db::begin_write(&ctx.db).await?;
        self.write(&txn, Utc::now()).await?;
        txn.commit().await
    }

    /// Writes the outcomes inside the caller's write transaction, one statement per group.
    /// A row finished for good (done, ignored, given up) loses its payload in the same
    /// statement (I12): only what deduplication needs stays, until `retention` purges it.
    async fn write(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
        if !self.done.is_empty() {
            queries::inbox::mark_done(db, &self.done, now).await?;
        }
        for (reason, ids) in &self.ignored {
            queries::inbox::mark_ignored(db, ids, reason, now).await?;
        }
        for failure in &self.failed {
            match failure.after {
                AfterFailure::GiveUp => queries::inbox::mark_failed(db, failure.id, &failure.error, now).await?,
                AfterFailure::Retry => {
                    let at = now + retry_delay(failure.attempts);
                    queries::inbox::retry_later(db, failure.id, &failure.error, at).await?;
                }
            }
        }
        for (ids, lease_until) in &self.given_back {
            queries::inbox::give_back(db, ids, *lease_until).await?;
        }
        Ok(())
    }
}

/// How long a failed row waits before its next attempt: grows with the square of its
/// attempts so far (at least one).
fn retry_delay(attempts: i32) -> Duration {
    Duration::seconds(10 * i64::from(Ord::max(attempts, 1)).pow(2))
}
