//! The delivery worker: leases due deliveries, signs each (re-signed on every attempt),
//! POSTs it with bounded concurrency per host and overall, and records the outcome.
//!
//! Leases make it safe to run several workers against one database (D3): a row is taken by
//! a conditional UPDATE that only one worker can win, and a worker that dies simply lets
//! its leases expire. A row that waited for a busy host long enough for its lease to run
//! low renews it, conditionally, before sending: if another worker took it meanwhile, it is
//! not sent a second time.
//!
//! Fan-out speed (B1): rows are leased in batches; an activity's body, `Digest` and sender
//! key are prepared once and shared by all its deliveries, so each delivery costs one RSA
//! signature and one POST; successes are recorded by a single recorder task, many rows per
//! transaction, instead of one write per delivery. A crash before the recorder writes only
//! means those rows are sent again when their leases expire (at least once, D4).
//!
//! - `mod.rs`: the loop (claiming, counting rows per host, bounding concurrency) and one
//!   attempt's decisions ([`Gate`], [`Verdict`]);
//! - `send.rs`: the signed POST, with the payloads and signing keys it caches;
//! - `record.rs`: writing outcomes (the batched recorder, `finish`, `postpone`).
//!
//! The statements themselves are in `db::queries::deliveries`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration as StdDuration, SystemTime},
};

use chrono::{Duration, Utc};
use sea_orm::DbErr;
use tokio::{
    sync::{Semaphore, mpsc, watch},
    task::JoinSet,
};

use self::{
    record::{Attempt, Delivered, finish, postpone, record},
    send::{Connection, Payload, SendError, send},
};
use crate::{
    db::{
        entities::deliveries::{self, DeliveryState},
        queries,
    },
    federation::{
        context::FederationContext,
        delivery::{
            hosts::Gate,
            retry::{self, MAX_ATTEMPTS, Verdict},
        },
        fetch::REQUEST_TIMEOUT,
        signatures::SigningKey,
    },
};

mod record;
mod send;

/// Limits of one worker.
#[derive(Clone, Debug)]
pub struct DeliveryLimits {
    /// Requests in flight at once (D4).
    pub global: usize,
    /// Requests in flight to one host at once (D4: 1–4).
    pub per_host: usize,
    /// How long a leased row belongs to this worker.
    pub lease: Duration,
    /// Multiplies retry delays (1.0 in production).
    pub backoff_scale: f64,
}

impl DeliveryLimits {
    /// From the configuration.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            global: config.delivery_concurrency as usize,
            per_host: config.delivery_per_host as usize,
            lease: Duration::seconds(i64::from(config.delivery_lease_seconds)),
            backoff_scale: config.delivery_backoff_scale,
        }
    }
}

/// Shared state of one worker's tasks.
struct Shared {
    ctx: FederationContext,
    global: Arc<Semaphore>,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
    keys: Mutex<HashMap<i64, Arc<SigningKey>>>,
    payloads: Mutex<HashMap<i64, Payload>>,
    /// This worker's rows per host, leased and not yet done (see [`Queued`]).
    queued: Mutex<HashMap<String, usize>>,
    limits: DeliveryLimits,
    recorder: mpsc::UnboundedSender<Delivered>,
}

/// One leased row counted against its host while its task lives. A delivery that is the
/// last one queued for its host asks the peer to close the connection (`Connection: close`)
/// instead of leaving it idle in the pool: in a fan-out every host gets one delivery, and
/// thousands of idle keep-alive connections (each with its buffers and task) were most of
/// the fan-out's memory (B1). A host with a backlog still reuses its connections.
struct Queued {
    shared: Arc<Shared>,
    host: String,
}

impl Queued {
    fn new(shared: &Arc<Shared>, host: &str) -> Self {
        if let Ok(mut queued) = shared.queued.lock() {
            *queued.entry(host.to_owned()).or_default() += 1;
        }
        Self { shared: shared.clone(), host: host.to_owned() }
    }

    /// Whether other rows for the same host are queued besides this one.
    fn more_for_host(&self) -> bool {
        self.shared.queued.lock().ok().and_then(|q| q.get(&self.host).copied()).unwrap_or(0) > 1
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if let Ok(mut queued) = self.shared.queued.lock()
            && let Some(n) = queued.get_mut(&self.host)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                queued.remove(&self.host);
            }
        }
    }
}

/// Delivers until `shutdown` turns true, then lets in-flight requests finish.
pub async fn run(
    ctx: FederationContext,
    limits: DeliveryLimits,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), DbErr> {
    let worker_id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let (recorder, delivered) = mpsc::unbounded_channel();
    let recording = tokio::spawn(record(ctx.db.clone(), delivered));
    let shared = Arc::new(Shared {
        recorder,
        global: Arc::new(Semaphore::new(limits.global)),
        per_host: Mutex::new(HashMap::new()),
        keys: Mutex::new(HashMap::new()),
        payloads: Mutex::new(HashMap::new()),
        queued: Mutex::new(HashMap::new()),
        ctx,
        limits,
    });
    tracing::info!(worker = %worker_id, "delivery worker started");
    let mut tasks = JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        let room = shared.limits.global.saturating_mul(2).saturating_sub(tasks.len());
        let claimed = if room > 0 {
            match claim(&shared, &worker_id, room as u64).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery worker: cannot claim");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let idle = claimed.is_empty();
        // Every row is counted against its host before any is sent, so the first delivery
        // of a backlog sees the ones behind it.
        let counted: Vec<_> = claimed.into_iter().map(|row| (Queued::new(&shared, &row.host), row)).collect();
        for (queued, row) in counted {
            tasks.spawn(async move {
                if let Err(e) = attempt(&queued, row).await {
                    tracing::warn!(error = %e, "delivery bookkeeping failed; the lease will expire and it is retried");
                }
            });
        }
        if idle || room == 0 {
            tokio::select! {
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = shared.ctx.delivery_wakeup.notified() => {}
                _ = tokio::time::sleep(StdDuration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
        }
        while tasks.try_join_next().is_some() {}
        prune(&shared);
    }
    while tasks.join_next().await.is_some() {}
    // The last sender goes with `shared`: the recorder writes what is left, then ends.
    drop(shared);
    if recording.await.is_err() {
        tracing::warn!("delivery recorder failed; unrecorded successes are resent when their leases expire");
    }
    tracing::info!(worker = %worker_id, "delivery worker stopped");
    Ok(())
}

/// Leases up to `limit` due deliveries.
async fn claim(shared: &Shared, worker_id: &str, limit: u64) -> Result<Vec<deliveries::Model>, DbErr> {
    let db = &shared.ctx.db;
    let now = Utc::now();
    let ids = queries::deliveries::due_ids(db, now, limit).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let token = format!("{worker_id}:{}", uuid::Uuid::new_v4().simple());
    // Only rows still free are taken: of two workers racing, each row goes to one.
    let writer = crate::db::writer(db).await?;
    queries::deliveries::lease(writer.connection(), ids.clone(), &token, now, now + shared.limits.lease).await?;
    drop(writer);
    queries::deliveries::leased_by(db, ids, &token).await
}

/// One attempt at one delivery, with its bookkeeping.
#[tracing::instrument(skip_all, fields(delivery = row.id, activity = row.activity_id, host = %row.host))]
async fn attempt(queued: &Queued, row: deliveries::Model) -> Result<(), DbErr> {
    let shared = &*queued.shared;
    let db = &shared.ctx.db;
    let now = Utc::now();
    let health = &shared.ctx.hosts;
    let gate = match health.gate(&row.host, now) {
        Gate::ProbeDue => health.claim_probe(db, &row.host, now).await?,
        gate => gate,
    };
    match gate {
        Gate::Unavailable | Gate::ProbeDue => {
            return finish(shared, &row, DeliveryState::Failed, None, Some("host unavailable".into())).await;
        }
        Gate::PausedUntil(until) => {
            // Held back before sending: the pause does not count as an attempt.
            return postpone(shared, &row, until, Attempt::HeldBack, None, Some("circuit breaker open".into())).await;
        }
        Gate::Open => {}
    }
    let host_permit = host_semaphore(shared, &row.host).acquire_owned().await;
    let global_permit = shared.global.clone().acquire_owned().await;
    let (Ok(_host_permit), Ok(_global_permit)) = (host_permit, global_permit) else { return Ok(()) };
    if !keep_lease(shared, &row).await? {
        tracing::debug!(delivery = row.id, "lease lost while waiting for the host; another worker has it");
        return Ok(());
    }

    let connection = if queued.more_for_host() { Connection::KeepAlive } else { Connection::Close };
    let (status, retry_after, error) = match send(shared, &row, connection).await {
        Ok((status, retry_after)) => (Some(status), retry_after, None),
        Err(SendError::Permanent(e)) => return finish(shared, &row, DeliveryState::Failed, None, Some(e)).await,
        Err(SendError::Temporary(e)) => (None, None, Some(e)),
    };
    let code = status.map(|s| s.as_u16());
    match retry::classify(code) {
        Verdict::Delivered => {
            health.record_success(db, &row.host).await?;
            match code {
                Some(code) if shared.recorder.send((row.id, code)).is_ok() => Ok(()),
                _ => finish(shared, &row, DeliveryState::Delivered, code, None).await,
            }
        }
        Verdict::Permanent => {
            finish(shared, &row, DeliveryState::Failed, code, Some(format!("refused with {}", code.unwrap_or(0)))).await
        }
        Verdict::Retry => {
            if code != Some(401) {
                health.record_failure(db, &row.host, now, shared.limits.backoff_scale).await?;
            }
            let attempts = row.attempts + 1;
            let error = error.or_else(|| code.map(|c| format!("answered {c}")));
            if attempts >= MAX_ATTEMPTS {
                return finish(shared, &row, DeliveryState::Failed, code, error).await;
            }
            let jitter = f64::from(uuid::Uuid::new_v4().as_bytes()[0]) / 256.0;
            let base = retry::backoff(attempts, jitter);
            let mut wait =
                Duration::milliseconds((base.num_milliseconds() as f64 * shared.limits.backoff_scale) as i64);
            if let Some(asked) = retry_after.as_deref().and_then(|v| retry::retry_after(v, SystemTime::now())) {
                wait = wait.max(asked);
            }
            postpone(shared, &row, now + wait, Attempt::Made, code, error).await
        }
    }
}

/// Whether the row is still ours to send. A row whose lease could run out before the
/// request does (less than the longest request plus a margin is left, or less than half the
/// lease: it waited for a busy host) renews it, but only if no other worker has taken it
/// meanwhile (its lease expired and it was claimed, sent, or rescheduled elsewhere):
/// otherwise it would be sent twice. With the default two-minute lease a row sent soon
/// after it was leased needs no renewal, so the fast path makes no extra round trip.
async fn keep_lease(shared: &Shared, row: &deliveries::Model) -> Result<bool, DbErr> {
    let now = Utc::now();
    let left = row.lease_until.map_or(Duration::zero(), |until| until - now);
    let longest_request = Duration::from_std(REQUEST_TIMEOUT).unwrap_or_default() + Duration::seconds(5);
    if left > longest_request && left * 2 > shared.limits.lease {
        return Ok(true);
    }
    let Some(owner) = row.lease_owner.as_deref() else { return Ok(false) };
    let writer = crate::db::writer(&shared.ctx.db).await?;
    queries::deliveries::renew_lease(writer.connection(), row.id, owner, now + shared.limits.lease).await
}

fn host_semaphore(shared: &Shared, host: &str) -> Arc<Semaphore> {
    match shared.per_host.lock() {
        Ok(mut map) => {
            map.entry(host.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(shared.limits.per_host))).clone()
        }
        Err(_) => Arc::new(Semaphore::new(shared.limits.per_host)),
    }
}

/// Drops per-host semaphores nobody holds, so the map stays as small as the hosts in flight.
fn prune(shared: &Shared) {
    if let Ok(mut map) = shared.per_host.lock()
        && map.len() > 1024
    {
        map.retain(|_, s| Arc::strong_count(s) > 1);
    }
}
