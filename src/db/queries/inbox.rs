//! Bookkeeping of `inbox_activities` (FEDERATION.md I9, I10, I12): storing received rows,
//! leasing them to a worker, writing outcomes, purging rows past their retention. The
//! decisions (what to lease, when to give up, how long to keep) are the inbox's and the
//! retention task's; these are the statements.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Statement,
    sea_query::{Expr, ExprTrait, OnConflict, Order, Query},
};

use crate::db::entities::inbox_activities::{self, Column as C, InboxState};

/// The payload of a row processed for good (I12): the body is dropped, the row stays for
/// deduplication until the retention task purges it.
pub const DROPPED_PAYLOAD: &str = "";

/// A verified activity to store.
#[derive(Debug)]
pub struct NewInboxRow {
    /// The activity id (unique).
    pub ap_id: String,
    /// Its `type`.
    pub activity_type: String,
    /// The verified actor's id (= the activity's `actor`).
    pub actor_ap_id: String,
    /// The verified actor's row: the worker acts as this actor (I6).
    pub actor_id: i64,
    /// The raw JSON as received.
    pub payload: String,
}

/// One multi-row `INSERT … ON CONFLICT (ap_id) DO NOTHING RETURNING ap_id` of `rows` (each
/// `ap_id` at most once), as pending rows received at `now`, built for `backend`: the caller
/// builds it before taking its write turn, so that only the statement runs inside it.
pub fn insert_new<'a>(
    backend: DbBackend,
    rows: impl IntoIterator<Item = &'a NewInboxRow>,
    now: DateTime<Utc>,
) -> Result<Statement, DbErr> {
    let mut insert = Query::insert();
    insert.into_table(inbox_activities::Entity).columns([
        C::ApId,
        C::ActivityType,
        C::ActorApId,
        C::ActorId,
        C::Payload,
        C::State,
        C::Attempts,
        C::ReceivedAt,
        C::AvailableAt,
    ]);
    for row in rows {
        insert
            .values([
                row.ap_id.clone().into(),
                row.activity_type.clone().into(),
                row.actor_ap_id.clone().into(),
                row.actor_id.into(),
                row.payload.clone().into(),
                InboxState::Pending.as_str().into(),
                0i32.into(),
                now.into(),
                now.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    insert.on_conflict(OnConflict::column(C::ApId).do_nothing().to_owned()).returning_col(C::ApId);
    Ok(backend.build(&insert))
}

/// Runs an [`insert_new`] statement: the ids stored now (the others were there already).
pub async fn run_insert(db: &impl ConnectionTrait, insert: Statement) -> Result<HashSet<String>, DbErr> {
    let returned = db.query_all_raw(insert).await?;
    let mut new: HashSet<String> = HashSet::with_capacity(returned.len());
    for row in returned {
        new.insert(row.try_get_by_index::<String>(0)?);
    }
    Ok(new)
}

/// Rows any worker may lease at `now`: pending, and not leased or the lease ran out.
fn leasable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(C::State.eq(InboxState::Pending))
        .add(Condition::any().add(C::LeaseUntil.is_null()).add(C::LeaseUntil.lt(now)))
}

/// The statement that leases the next `batch` rows at `now` until `lease_until`: the oldest
/// due rows, re-checked as still leasable, their attempts counted. The `(state, id)` index
/// lets the database walk pending rows in id order and stop after the batch, whatever the
/// backlog (`tests/it/inbox.rs` checks the plan on both engines).
pub fn lease(
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    batch: u64,
) -> sea_orm::UpdateMany<inbox_activities::Entity> {
    let due = Query::select()
        .column(C::Id)
        .from(inbox_activities::Entity)
        .cond_where(leasable(now).add(C::AvailableAt.lte(now)))
        .order_by(C::Id, Order::Asc)
        .limit(batch)
        .to_owned();
    inbox_activities::Entity::update_many()
        .col_expr(C::LeaseUntil, Expr::value(lease_until))
        .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
        .filter(C::Id.in_subquery(due))
        .filter(leasable(now))
}

/// [`lease`] with `RETURNING id`, built for `backend` (before the write turn).
pub fn lease_returning_ids(
    backend: DbBackend,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    batch: u64,
) -> Statement {
    let mut leasing = lease(now, lease_until, batch).into_query();
    leasing.returning_col(C::Id);
    backend.build(&leasing)
}

/// Runs a [`lease_returning_ids`] statement: the ids this caller leased. A row another
/// worker leased meanwhile fails the re-check and is not returned.
pub async fn run_lease(db: &impl ConnectionTrait, leasing: Statement) -> Result<Vec<i64>, DbErr> {
    let leased = db.query_all_raw(leasing).await?;
    leased.iter().map(|row| row.try_get_by_index::<i64>(0)).collect()
}

/// The rows `ids`, in id order.
pub async fn find_in_order(db: &impl ConnectionTrait, ids: Vec<i64>) -> Result<Vec<inbox_activities::Model>, DbErr> {
    inbox_activities::Entity::find().filter(C::Id.is_in(ids)).order_by_asc(C::Id).all(db).await
}

fn no_lease() -> Expr {
    Expr::value(Option::<DateTime<Utc>>::None)
}

/// Rows processed with an effect at `now`: done, payload dropped (I12).
pub async fn mark_done(db: &impl ConnectionTrait, ids: &[i64], now: DateTime<Utc>) -> Result<(), DbErr> {
    inbox_activities::Entity::update_many()
        .col_expr(C::LeaseUntil, no_lease())
        .col_expr(C::Payload, Expr::value(DROPPED_PAYLOAD))
        .col_expr(C::State, Expr::value(InboxState::Done))
        .col_expr(C::ProcessedAt, Expr::value(now))
        .filter(C::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Rows ignored for `reason` at `now`, payload dropped (I12).
pub async fn mark_ignored(
    db: &impl ConnectionTrait,
    ids: &[i64],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    inbox_activities::Entity::update_many()
        .col_expr(C::LeaseUntil, no_lease())
        .col_expr(C::State, Expr::value(InboxState::Ignored))
        .col_expr(C::Payload, Expr::value(DROPPED_PAYLOAD))
        .col_expr(C::ProcessedAt, Expr::value(now))
        .col_expr(C::LastError, Expr::value(reason))
        .filter(C::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// A row given up on at `now` with `error`, payload dropped (I12).
pub async fn mark_failed(db: &impl ConnectionTrait, id: i64, error: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    inbox_activities::Entity::update_many()
        .col_expr(C::LeaseUntil, no_lease())
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::State, Expr::value(InboxState::Failed))
        .col_expr(C::ProcessedAt, Expr::value(now))
        .col_expr(C::Payload, Expr::value(DROPPED_PAYLOAD))
        .filter(C::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// A row that failed with `error`, to be tried again from `available_at`.
pub async fn retry_later(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    available_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    inbox_activities::Entity::update_many()
        .col_expr(C::LeaseUntil, no_lease())
        .col_expr(C::LastError, Expr::value(error))
        .col_expr(C::AvailableAt, Expr::value(available_at))
        .filter(C::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Rows leased until `lease_until` and never started: as if never leased (their attempt
/// uncounted), unless leased again since.
pub async fn give_back(db: &impl ConnectionTrait, ids: &[i64], lease_until: DateTime<Utc>) -> Result<(), DbErr> {
    inbox_activities::Entity::update_many()
        .col_expr(C::LeaseUntil, no_lease())
        .col_expr(C::Attempts, Expr::col(C::Attempts).sub(1))
        .filter(C::Id.is_in(ids.iter().copied()))
        .filter(C::LeaseUntil.eq(lease_until))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes at most `batch` rows processed before `processed_before`, by the
/// `processed_at` index; never a pending row. Returns how many were deleted.
pub async fn purge_processed(
    db: &impl ConnectionTrait,
    processed_before: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let old = inbox_activities::Entity::find()
        .select_only()
        .column(C::Id)
        .filter(C::ProcessedAt.lt(processed_before))
        .filter(C::State.ne(InboxState::Pending))
        .limit(batch)
        .into_query();
    let result = inbox_activities::Entity::delete_many()
        .filter(C::Id.in_subquery(old))
        .filter(C::State.ne(InboxState::Pending))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
