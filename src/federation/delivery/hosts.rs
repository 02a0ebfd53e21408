//! Per-host health (D7): a circuit breaker that pauses a host after repeated failures, and
//! dead-host detection that stops delivering to a host failing on 7 distinct days. Any
//! success, or any signed request from the host, revives it.
//!
//! Only hosts with failures have a row, so the state is bounded by the hosts that are
//! failing. The worker keeps a copy in memory and writes through on every change.

use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, sea_query::OnConflict};

use crate::db::entities::hosts;

/// Consecutive failures that open the breaker.
pub const BREAKER_THRESHOLD: i32 = 5;
/// Longest the breaker stays open.
pub const BREAKER_MAX: Duration = Duration::hours(1);
/// Distinct failure days after which a host is unavailable.
pub const DEAD_AFTER_DAYS: i32 = 7;
/// Failures of one host this close together are one failure for the breaker: a fan-out has
/// several requests in flight to a host (and more queued), and one outage must not count
/// once per request and open the breaker for its longest pause at once.
pub const FAILURE_WINDOW: Duration = Duration::seconds(10);

/// May we deliver to a host now?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Yes.
    Open,
    /// Not before this time (breaker open).
    PausedUntil(DateTime<Utc>),
    /// No: the host is considered dead until it shows signs of life.
    Unavailable,
}

/// Health of every failing host.
#[derive(Debug, Default)]
pub struct HostHealth {
    hosts: Mutex<HashMap<String, hosts::Model>>,
    /// Multiplies breaker pauses (1.0 in production; tests shrink time).
    scale: f64,
}

impl HostHealth {
    /// Loads the failing hosts. `scale` multiplies breaker pauses.
    pub async fn load(db: &DatabaseConnection, scale: f64) -> Result<Self, DbErr> {
        let rows = hosts::Entity::find().all(db).await?;
        Ok(Self { hosts: Mutex::new(rows.into_iter().map(|h| (h.host.clone(), h)).collect()), scale })
    }

    /// Whether to deliver to `host` now.
    pub fn gate(&self, host: &str, now: DateTime<Utc>) -> Gate {
        let Ok(hosts) = self.hosts.lock() else { return Gate::Open };
        match hosts.get(host) {
            Some(h) if h.unavailable => Gate::Unavailable,
            Some(h) => match h.breaker_open_until {
                Some(until) if until > now => Gate::PausedUntil(until),
                _ => Gate::Open,
            },
            None => Gate::Open,
        }
    }

    /// A delivery succeeded (or the host sent us a signed request): forget its failures.
    pub async fn record_success(&self, db: &DatabaseConnection, host: &str) -> Result<(), DbErr> {
        let known = self.hosts.lock().map(|mut h| h.remove(host).is_some()).unwrap_or(false);
        if known {
            hosts::Entity::delete_by_id(host.to_owned()).exec(crate::db::writer(db).await?.connection()).await?;
        }
        Ok(())
    }

    /// A delivery failed in a retryable way.
    pub async fn record_failure(&self, db: &DatabaseConnection, host: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
        let updated = {
            let Ok(mut hosts) = self.hosts.lock() else { return Ok(()) };
            let entry = hosts.entry(host.to_owned()).or_insert_with(|| hosts::Model {
                host: host.to_owned(),
                consecutive_failures: 0,
                failure_days: 0,
                last_failure_day: None,
                unavailable: false,
                breaker_open_until: None,
                last_success_at: None,
                updated_at: now,
            });
            apply_failure(entry, now, self.scale);
            entry.clone()
        };
        let active = hosts::ActiveModel {
            host: Set(updated.host.clone()),
            consecutive_failures: Set(updated.consecutive_failures),
            failure_days: Set(updated.failure_days),
            last_failure_day: Set(updated.last_failure_day.clone()),
            unavailable: Set(updated.unavailable),
            breaker_open_until: Set(updated.breaker_open_until),
            last_success_at: Set(updated.last_success_at),
            updated_at: Set(updated.updated_at),
        };
        let writer = crate::db::writer(db).await?;
        hosts::Entity::insert(active)
            .on_conflict(
                OnConflict::column(hosts::Column::Host)
                    .update_columns([
                        hosts::Column::ConsecutiveFailures,
                        hosts::Column::FailureDays,
                        hosts::Column::LastFailureDay,
                        hosts::Column::Unavailable,
                        hosts::Column::BreakerOpenUntil,
                        hosts::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(writer.connection())
            .await?;
        Ok(())
    }

    /// A snapshot of the failing hosts, for the delivery-health views.
    pub fn snapshot(&self) -> Vec<hosts::Model> {
        self.hosts.lock().map(|h| h.values().cloned().collect()).unwrap_or_default()
    }
}

/// The pure part of a failure: counters, breaker, dead-host marking. The breaker counts at
/// most one failure per [`FAILURE_WINDOW`], and none while it is open (requests that were
/// already in flight when it opened); `updated_at` is the last failure it counted.
pub fn apply_failure(h: &mut hosts::Model, now: DateTime<Utc>, scale: f64) {
    let today = now.format("%Y-%m-%d").to_string();
    if h.last_failure_day.as_deref() != Some(today.as_str()) {
        h.failure_days = h.failure_days.saturating_add(1);
        h.last_failure_day = Some(today);
    }
    if h.failure_days >= DEAD_AFTER_DAYS {
        h.unavailable = true;
    }
    let window = Duration::milliseconds((FAILURE_WINDOW.num_milliseconds() as f64 * scale) as i64);
    let paused = h.breaker_open_until.is_some_and(|until| until > now);
    let same_burst = h.consecutive_failures > 0 && now - h.updated_at < window;
    if paused || same_burst {
        return;
    }
    h.consecutive_failures = h.consecutive_failures.saturating_add(1);
    if h.consecutive_failures >= BREAKER_THRESHOLD {
        let exponent = (h.consecutive_failures - BREAKER_THRESHOLD).clamp(0, 6) as u32;
        let pause = Duration::minutes(1 << exponent).min(BREAKER_MAX);
        let pause = Duration::milliseconds((pause.num_milliseconds() as f64 * scale) as i64);
        h.breaker_open_until = Some(now + pause);
    }
    h.updated_at = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(now: DateTime<Utc>) -> hosts::Model {
        hosts::Model {
            host: "down.example".into(),
            consecutive_failures: 0,
            failure_days: 0,
            last_failure_day: None,
            unavailable: false,
            breaker_open_until: None,
            last_success_at: None,
            updated_at: now,
        }
    }

    #[test]
    fn the_breaker_opens_after_five_failures_and_backs_off() {
        let start = Utc::now();
        let mut h = fresh(start);
        let mut now = start;
        for _ in 0..4 {
            apply_failure(&mut h, now, 1.0);
            now += FAILURE_WINDOW;
        }
        assert_eq!(h.breaker_open_until, None);
        apply_failure(&mut h, now, 1.0);
        assert_eq!(h.breaker_open_until, Some(now + Duration::minutes(1)));
        // The next failure counts once the breaker has closed again, and doubles the pause.
        now += Duration::minutes(1);
        apply_failure(&mut h, now, 1.0);
        assert_eq!(h.breaker_open_until, Some(now + Duration::minutes(2)));
        for _ in 0..20 {
            now = h.breaker_open_until.unwrap_or(now);
            apply_failure(&mut h, now, 1.0);
        }
        assert_eq!(h.breaker_open_until, Some(now + BREAKER_MAX));
        assert!(!h.unavailable, "many failures on one day do not kill a host");
    }

    #[test]
    fn a_burst_of_failures_counts_once_and_an_open_breaker_does_not_escalate() {
        let now = Utc::now();
        let mut h = fresh(now);
        // Forty requests in flight to a host that just went down.
        for i in 0..40 {
            apply_failure(&mut h, now + Duration::milliseconds(i * 100), 1.0);
        }
        assert_eq!(h.consecutive_failures, 1, "one outage, one failure");
        assert_eq!(h.breaker_open_until, None);
        let mut t = now;
        for _ in 0..4 {
            t += FAILURE_WINDOW;
            apply_failure(&mut h, t, 1.0);
        }
        let opened = Some(t + Duration::minutes(1));
        assert_eq!(h.breaker_open_until, opened);
        // Requests that were in flight when it opened fail too: no escalation.
        apply_failure(&mut h, t + FAILURE_WINDOW * 2, 1.0);
        assert_eq!((h.consecutive_failures, h.breaker_open_until), (5, opened));
        // Time is scaled like the pauses.
        let mut quick = fresh(now);
        apply_failure(&mut quick, now, 0.01);
        apply_failure(&mut quick, now + Duration::milliseconds(150), 0.01);
        assert_eq!(quick.consecutive_failures, 2);
    }

    #[test]
    fn seven_distinct_failure_days_mark_a_host_unavailable() {
        let start = Utc::now();
        let mut h = fresh(start);
        for day in 0..6 {
            apply_failure(&mut h, start + Duration::days(day), 1.0);
            apply_failure(&mut h, start + Duration::days(day), 1.0);
        }
        assert_eq!(h.failure_days, 6);
        assert!(!h.unavailable);
        apply_failure(&mut h, start + Duration::days(6), 1.0);
        assert!(h.unavailable);
        let health = HostHealth { scale: 1.0, ..HostHealth::default() };
        health.hosts.lock().unwrap_or_else(|e| e.into_inner()).insert(h.host.clone(), h);
        assert_eq!(health.gate("down.example", start), Gate::Unavailable);
        assert_eq!(health.gate("up.example", start), Gate::Open);
    }
}
