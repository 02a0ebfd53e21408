//! Deliveries: the delivery worker's bookkeeping (leases, outcomes; FEDERATION.md D3, D4)
//! and their progress (D8): per activity, per host, and the queue as a whole.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::Serialize;

use crate::db::entities::{
    activities,
    deliveries::{self, Column as C, DeliveryState},
    hosts,
};

/// Rows no worker holds at `now`: never leased, or the lease ran out.
fn free(now: DateTime<Utc>) -> Condition {
    Condition::any().add(C::LeaseUntil.is_null()).add(C::LeaseUntil.lt(now))
}

fn no_lease_owner() -> Expr {
    Expr::value(Option::<String>::None)
}

fn no_lease_until() -> Expr {
    Expr::value(Option::<DateTime<Utc>>::None)
}

/// Up to `limit` pending deliveries due at `now` and free, oldest due first.
pub async fn due_ids(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<i64>, DbErr> {
    deliveries::Entity::find()
        .select_only()
        .column(C::Id)
        .filter(C::State.eq(DeliveryState::Pending))
        .filter(C::NextAttemptAt.lte(now))
        .filter(free(now))
        .order_by_asc(C::NextAttemptAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Leases those of `ids` still pending and free at `now` to `token` until `lease_until`:
/// of two workers racing, each row goes to one.
pub async fn lease(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
    token: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<(), DbErr> {
    deliveries::Entity::update_many()
        .col_expr(C::LeaseOwner, Expr::value(token))
        .col_expr(C::LeaseUntil, Expr::value(lease_until))
        .filter(C::Id.is_in(ids))
        .filter(C::State.eq(DeliveryState::Pending))
        .filter(free(now))
        .exec(db)
        .await
        .map(|_| ())
}

/// The rows of `ids` that `token` holds.
pub async fn leased_by(db: &impl ConnectionTrait, ids: Vec<i64>, token: &str) -> Result<Vec<deliveries::Model>, DbErr> {
    deliveries::Entity::find().filter(C::Id.is_in(ids)).filter(C::LeaseOwner.eq(token)).all(db).await
}

/// Extends the lease of row `id` to `lease_until` if `owner` still holds it and it is still
/// pending; whether it did.
pub async fn renew_lease(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let renewed = deliveries::Entity::update_many()
        .col_expr(C::LeaseUntil, Expr::value(lease_until))
        .filter(C::Id.eq(id))
        .filter(C::LeaseOwner.eq(owner))
        .filter(C::State.eq(DeliveryState::Pending))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// Marks the still-pending rows of `ids` delivered at `now`, answered with `status`.
pub async fn mark_delivered(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
    status: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    deliveries::Entity::update_many()
        .col_expr(C::State, Expr::value(DeliveryState::Delivered))
        .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
        .col_expr(C::LastStatus, Expr::value(status))
        .col_expr(C::LastError, Expr::value(Option::<String>::None))
        .col_expr(C::FinishedAt, Expr::value(now))
        .col_expr(C::LeaseOwner, no_lease_owner())
        .col_expr(C::LeaseUntil, no_lease_until())
        .filter(C::Id.is_in(ids))
        .filter(C::State.eq(DeliveryState::Pending))
        .exec(db)
        .await
        .map(|_| ())
}

/// What an attempt at one delivery leaves on its row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// Attempts made, this one included.
    pub attempts: i32,
    /// The status the inbox answered, if it answered.
    pub status: Option<i32>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// Finishes row `id` in `state` at `now` and releases its lease.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    state: DeliveryState,
    record: AttemptRecord,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    deliveries::Entity::update_many()
        .col_expr(C::State, Expr::value(state))
        .col_expr(C::Attempts, Expr::value(record.attempts))
        .col_expr(C::LastStatus, Expr::value(record.status))
        .col_expr(C::LastError, Expr::value(record.error))
        .col_expr(C::FinishedAt, Expr::value(now))
        .col_expr(C::LeaseOwner, no_lease_owner())
        .col_expr(C::LeaseUntil, no_lease_until())
        .filter(C::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Leaves row `id` pending until `at` and releases its lease.
pub async fn postpone(
    db: &impl ConnectionTrait,
    id: i64,
    at: DateTime<Utc>,
    record: AttemptRecord,
) -> Result<(), DbErr> {
    deliveries::Entity::update_many()
        .col_expr(C::Attempts, Expr::value(record.attempts))
        .col_expr(C::NextAttemptAt, Expr::value(at))
        .col_expr(C::LastStatus, Expr::value(record.status))
        .col_expr(C::LastError, Expr::value(record.error))
        .col_expr(C::LeaseOwner, no_lease_owner())
        .col_expr(C::LeaseUntil, no_lease_until())
        .filter(C::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// The activity a delivery sends, as stored when it was built.
pub async fn activity(db: &impl ConnectionTrait, activity_id: i64) -> Result<Option<activities::Model>, DbErr> {
    activities::Entity::find_by_id(activity_id).one(db).await
}

/// Counts of deliveries by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub delivered: u64,
    pub pending: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, state: DeliveryState, n: u64) {
        match state {
            DeliveryState::Delivered => self.delivered += n,
            DeliveryState::Pending => self.pending += n,
            DeliveryState::Failed => self.failed += n,
        }
    }
}

/// One host's share of an activity's deliveries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostProgress {
    pub host: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// The latest error seen for this host, if any.
    pub last_error: Option<String>,
}

/// How far one activity has got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityProgress {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub counts: Counts,
    pub hosts: Vec<HostProgress>,
}

/// Progress of every activity about `object_ap_id` (a post's Create, Updates, Delete).
pub async fn for_object(db: &impl ConnectionTrait, object_ap_id: &str) -> Result<Vec<ActivityProgress>, DbErr> {
    let sent = activities::Entity::find()
        .filter(activities::Column::ObjectApId.eq(object_ap_id))
        .order_by_asc(activities::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(sent.len());
    for activity in sent {
        let rows: Vec<(String, DeliveryState, Option<String>)> = deliveries::Entity::find()
            .select_only()
            .column(deliveries::Column::Host)
            .column(deliveries::Column::State)
            .column(deliveries::Column::LastError)
            .filter(deliveries::Column::ActivityId.eq(activity.id))
            .into_tuple()
            .all(db)
            .await?;
        let mut counts = Counts::default();
        let mut per_host: BTreeMap<String, (Counts, Option<String>)> = BTreeMap::new();
        for (host, state, error) in rows {
            counts.add(state, 1);
            let entry = per_host.entry(host).or_default();
            entry.0.add(state, 1);
            if error.is_some() {
                entry.1 = error;
            }
        }
        out.push(ActivityProgress {
            id: activity.ap_id,
            kind: activity.activity_type,
            created_at: activity.created_at,
            counts,
            hosts: per_host
                .into_iter()
                .map(|(host, (counts, last_error))| HostProgress { host, counts, last_error })
                .collect(),
        });
    }
    Ok(out)
}

/// A failing host, as shown to operators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailingHost {
    pub host: String,
    pub consecutive_failures: i32,
    pub failure_days: i32,
    pub unavailable: bool,
    pub paused_until: Option<DateTime<Utc>>,
}

/// The whole queue: deliveries by outcome, and the hosts currently failing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueSummary {
    #[serde(flatten)]
    pub counts: Counts,
    pub failing_hosts: Vec<FailingHost>,
}

/// Deliveries by state (counted in the database), and the 100 most recent failing hosts.
pub async fn queue_summary(db: &impl ConnectionTrait) -> Result<QueueSummary, DbErr> {
    let by_state: Vec<(DeliveryState, i64)> = deliveries::Entity::find()
        .select_only()
        .column(deliveries::Column::State)
        .column_as(deliveries::Column::Id.count(), "n")
        .group_by(deliveries::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = Counts::default();
    for (state, n) in by_state {
        counts.add(state, u64::try_from(n).unwrap_or_default());
    }
    let failing_hosts = hosts::Entity::find()
        .order_by_desc(hosts::Column::UpdatedAt)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(|h| FailingHost {
            host: h.host,
            consecutive_failures: h.consecutive_failures,
            failure_days: h.failure_days,
            unavailable: h.unavailable,
            paused_until: h.breaker_open_until,
        })
        .collect();
    Ok(QueueSummary { counts, failing_hosts })
}

/// Inserts one pending delivery of activity `activity_id` per (host, inbox), due `now`,
/// skipping inboxes that already have one (D2).
pub async fn insert_pending(
    db: &impl ConnectionTrait,
    activity_id: i64,
    targets: &[(String, &str)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if targets.is_empty() {
        return Ok(());
    }
    let rows = targets.iter().map(|(host, inbox)| deliveries::ActiveModel {
        activity_id: Set(activity_id),
        host: Set(host.clone()),
        inbox_url: Set((*inbox).to_owned()),
        state: Set(DeliveryState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_owner: Set(None),
        lease_until: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    });
    deliveries::Entity::insert_many(rows)
        .on_conflict(OnConflict::columns([C::ActivityId, C::InboxUrl]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}
