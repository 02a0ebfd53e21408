//! Per-host health (D7): a circuit breaker that pauses a host after repeated failures, and
//! dead-host detection that stops delivering to a host failing on 7 distinct days.
//!
//! An unavailable host's deliveries are failed without an attempt ("host unavailable"),
//! except one probe a day: the first pending delivery to it once its `probe_after` has
//! passed is sent for real. A success (of the probe or of anything else) revives the host
//! and its deliveries flow again; a failure keeps it unavailable until the next day's probe.
//! A verified inbound request from the host ([`seen_alive`], called by the inbox) revives it
//! at once.
//!
//! Only hosts with failures have a row, so the state is bounded by the hosts that are
//! failing. Each process keeps a copy in memory ([`HostHealth`], shared by its inbox and
//! its delivery worker) and writes through to the `hosts` table on every change. How a
//! process learns what other processes changed (PostgreSQL with several processes):
//!
//! - every [`RELOAD_EVERY`] the copy is replaced by the table ([`keep_fresh`], run in every
//!   process, web-only ones included: their inbox needs to know which hosts are failing);
//! - a probe is claimed in the table by a conditional `UPDATE` (one process wins the day's
//!   probe); a process that loses the claim re-reads the row, and delivers normally if
//!   another process has revived the host meanwhile.
//!
//! So a host revived by another process's inbox is delivered to again here within
//! [`RELOAD_EVERY`]. The inbox's check is in memory: a request from a host without a
//! failure row costs no database work.

use std::{collections::HashMap, sync::Mutex, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;
use url::Url;

use crate::{
    db::{entities::hosts, queries},
    federation::{context::FederationContext, delivery::expand::host_of},
};

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
/// Time between two probe deliveries to an unavailable host.
pub const PROBE_EVERY: Duration = Duration::days(1);
/// How often each process replaces its copy by the `hosts` table.
pub const RELOAD_EVERY: StdDuration = StdDuration::from_secs(60);

/// May we deliver to a host now?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Yes.
    Open,
    /// Not before this time (breaker open).
    PausedUntil(DateTime<Utc>),
    /// No: the host is considered dead until it shows signs of life.
    Unavailable,
    /// The host is unavailable and its daily probe is due: this delivery may be it
    /// ([`HostHealth::claim_probe`]).
    ProbeDue,
}

/// Health of every failing host, as this process knows it.
#[derive(Debug, Default)]
pub struct HostHealth {
    hosts: Mutex<HashMap<String, hosts::Model>>,
}

impl HostHealth {
    /// Loads the failing hosts.
    pub async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let health = Self::default();
        health.reload(db).await?;
        Ok(health)
    }

    /// Replaces the copy by what the table holds (other processes write there too).
    pub async fn reload(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let rows = queries::hosts::all(db).await?;
        if let Ok(mut hosts) = self.hosts.lock() {
            *hosts = rows.into_iter().map(|h| (h.host.clone(), h)).collect();
        }
        Ok(())
    }

    /// Whether to deliver to `host` now.
    pub fn gate(&self, host: &str, now: DateTime<Utc>) -> Gate {
        let Ok(hosts) = self.hosts.lock() else { return Gate::Open };
        match hosts.get(host) {
            Some(h) if h.unavailable => match h.probe_after {
                Some(after) if after > now => Gate::Unavailable,
                _ => Gate::ProbeDue,
            },
            Some(h) => match h.breaker_open_until {
                Some(until) if until > now => Gate::PausedUntil(until),
                _ => Gate::Open,
            },
            None => Gate::Open,
        }
    }

    /// Whether `host` has a failure row (as this process knows): the inbox's cheap check.
    pub fn is_failing(&self, host: &str) -> bool {
        self.hosts.lock().is_ok_and(|h| h.contains_key(host))
    }

    /// Takes the day's probe of an unavailable host. Returns the gate to apply instead of
    /// [`Gate::ProbeDue`]: `Open` when this delivery is the probe, or when another process
    /// revived the host meanwhile; `Unavailable` when another delivery (here or in another
    /// process) took the probe.
    pub async fn claim_probe(&self, db: &DatabaseConnection, host: &str, now: DateTime<Utc>) -> Result<Gate, DbErr> {
        let next = now + PROBE_EVERY;
        // In memory first: the other deliveries of this process see the probe taken.
        let claimed_here = self.hosts.lock().is_ok_and(|mut hosts| match hosts.get_mut(host) {
            Some(h) if h.unavailable && h.probe_after.is_none_or(|after| after <= now) => {
                h.probe_after = Some(next);
                true
            }
            _ => false,
        });
        if !claimed_here {
            return Ok(self.gate(host, now));
        }
        let claimed = {
            let writer = crate::db::writer(db).await?;
            queries::hosts::claim_probe(writer.connection(), host, now, next).await?
        };
        if claimed {
            tracing::info!(host, "probing an unavailable host");
            return Ok(Gate::Open);
        }
        // Another process probed it today, or revived it: the table says which.
        let row = queries::hosts::find(db, host).await?;
        if let Ok(mut hosts) = self.hosts.lock() {
            match row {
                Some(row) => hosts.insert(host.to_owned(), row),
                None => hosts.remove(host),
            };
        }
        Ok(match self.gate(host, now) {
            // Probed elsewhere since this copy was read: not due again before tomorrow.
            Gate::ProbeDue => Gate::Unavailable,
            gate => gate,
        })
    }

    /// A delivery succeeded (or the host sent us a verified request): forget its failures.
    pub async fn record_success(&self, db: &DatabaseConnection, host: &str) -> Result<(), DbErr> {
        let known = self.hosts.lock().map(|mut h| h.remove(host).is_some()).unwrap_or(false);
        if known {
            queries::hosts::delete(crate::db::writer(db).await?.connection(), host).await?;
        }
        Ok(())
    }

    /// A delivery failed in a retryable way at `now`; `scale` multiplies breaker pauses
    /// (1.0 in production; tests shrink time).
    pub async fn record_failure(
        &self,
        db: &DatabaseConnection,
        host: &str,
        now: DateTime<Utc>,
        scale: f64,
    ) -> Result<(), DbErr> {
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
                probe_after: None,
            });
            apply_failure(entry, now, scale);
            entry.clone()
        };
        let writer = crate::db::writer(db).await?;
        queries::hosts::upsert(writer.connection(), &updated).await?;
        Ok(())
    }

    /// A snapshot of the failing hosts, for the delivery-health views.
    pub fn snapshot(&self) -> Vec<hosts::Model> {
        self.hosts.lock().map(|h| h.values().cloned().collect()).unwrap_or_default()
    }
}

/// The inbox saw a verified request from `actor`'s host: if that host is failing, it is
/// alive after all (D7), and its failures are forgotten. A host without a failure row
/// costs one in-memory lookup and no database work. Never fails the request: a database
/// error is logged (the host is revived by the next request or delivery).
pub async fn seen_alive(ctx: &FederationContext, actor: &Url) {
    let host = host_of(actor);
    if !ctx.hosts.is_failing(&host) {
        return;
    }
    match ctx.hosts.record_success(&ctx.db, &host).await {
        Ok(()) => tracing::info!(host, "a failing host sent a verified request: revived"),
        Err(e) => tracing::warn!(host, error = %e, "could not revive a host"),
    }
}

/// Replaces this process's copy by the table every [`RELOAD_EVERY`] until `shutdown`.
pub async fn keep_fresh(ctx: FederationContext, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RELOAD_EVERY) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = ctx.hosts.reload(&ctx.db).await {
            tracing::warn!(error = %e, "host health: cannot reload; will retry");
        }
    }
}

/// The pure part of a failure: counters, breaker, dead-host marking. The breaker counts at
/// most one failure per [`FAILURE_WINDOW`], and none while it is open (requests that were
/// already in flight when it opened); `updated_at` is the last failure it counted. A host
/// that becomes unavailable gets its first probe a day later.
pub fn apply_failure(h: &mut hosts::Model, now: DateTime<Utc>, scale: f64) {
    let today = now.format("%Y-%m-%d").to_string();
    if h.last_failure_day.as_deref() != Some(today.as_str()) {
        h.failure_days = h.failure_days.saturating_add(1);
        h.last_failure_day = Some(today);
    }
    if h.failure_days >= DEAD_AFTER_DAYS && !h.unavailable {
        h.unavailable = true;
        h.probe_after = Some(now + PROBE_EVERY);
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
            probe_after: None,
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
        assert_eq!(h.probe_after, Some(start + Duration::days(6) + PROBE_EVERY));
        let health = HostHealth::default();
        health.hosts.lock().unwrap_or_else(|e| e.into_inner()).insert(h.host.clone(), h);
        assert_eq!(health.gate("down.example", start + Duration::days(6)), Gate::Unavailable);
        assert_eq!(health.gate("down.example", start + Duration::days(7)), Gate::ProbeDue);
        assert_eq!(health.gate("up.example", start), Gate::Open);
    }
}
