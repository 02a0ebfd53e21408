//! Delivery progress (FEDERATION.md D8): per activity, per host, and the queue as a whole.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::db::entities::{activities, deliveries, hosts};

/// Counts of deliveries by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub delivered: u64,
    pub pending: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, state: &str) {
        match state {
            "delivered" => self.delivered += 1,
            "pending" => self.pending += 1,
            _ => self.failed += 1,
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
        let rows: Vec<(String, String, Option<String>)> = deliveries::Entity::find()
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
            counts.add(&state);
            let entry = per_host.entry(host).or_default();
            entry.0.add(&state);
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
    let by_state: Vec<(String, i64)> = deliveries::Entity::find()
        .select_only()
        .column(deliveries::Column::State)
        .column_as(deliveries::Column::Id.count(), "n")
        .group_by(deliveries::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = Counts::default();
    for (state, n) in by_state {
        let n = u64::try_from(n).unwrap_or_default();
        match state.as_str() {
            "delivered" => counts.delivered += n,
            "pending" => counts.pending += n,
            _ => counts.failed += n,
        }
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
