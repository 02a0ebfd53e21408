//! The inbox: receiving activities (FEDERATION.md §4) and the worker that processes them.
//!
//! ```text
//! POST /inbox ─► body ≤ 1 MiB (413) ─► signature parses, covers enough, digest, time (401/400)
//!             ─► envelope {id, type, actor} sane, same origin, not ours (400)
//!             ─► (a self-Delete of an actor we never saw: 202, dropped unstored)
//!             ─► the actor whose id IS `actor` resolved (cache / signed fetch, F2) and
//!                owns the key (401)
//!             ─► signature verified; on failure the key is re-fetched once per 5 min (401)
//!             ─► per-actor rate limit, charged to the verified actor (429)
//!             ─► INSERT inbox_activities with the verified actor's row (dedup by id;
//!                group commit) ─► 202
//!
//! inbox worker ─► lease a batch of pending rows (one UPDATE … RETURNING id), then read them
//!              ─► dispatch each by type (activities/*) ─► done / ignored / retry, per group,
//!                 written with the next round's lease (one transaction)
//! ```

use std::{
    collections::BTreeMap,
    time::{Duration as StdDuration, SystemTime},
};

use axum::http::{HeaderMap, Method, StatusCode};
use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    sea_query::{Expr, ExprTrait, Order, Query},
};
use serde_json::Value;
use tokio::sync::watch;
use url::Url;

use crate::{
    db::{
        entities::{actors, inbox_activities},
        queries,
    },
    federation::{
        activities,
        context::FederationContext,
        inbox_writer::{Inserted, NewInboxRow},
        protocol::lenient::{id_of, string_of},
        resolve::{self, Freshness, ResolveError},
        signatures::{self, RequestParts, SignatureError},
    },
    rate_limit::InboxLimits,
};

/// Why an inbound request was refused.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The signature is missing, malformed, stale, or does not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The body is not an acceptable activity.
    #[error("{0}")]
    Malformed(String),
    /// The key does not belong to the activity's actor, or the actor cannot be verified.
    #[error("{0}")]
    Unauthorized(String),
    /// The sender is over its rate (I11): try again after the given time.
    #[error("too many requests; retry in {} s", retry_after_seconds(*.0))]
    RateLimited(StdDuration),
    /// Our own failure (database…).
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Whole seconds for `Retry-After`, rounded up, at least 1.
pub fn retry_after_seconds(wait: StdDuration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0 || wait.is_zero())
}

impl InboxError {
    /// The HTTP status to answer with (I9).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Signature(e) => e.status_code(),
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DbErr> for InboxError {
    fn from(e: DbErr) -> Self {
        Self::Internal(e.into())
    }
}

/// A request as the inbox handler received it.
pub struct InboundRequest<'a> {
    pub method: &'a Method,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// Per-actor limits to apply once the actor is known (before any database work).
    pub limits: Option<&'a InboxLimits>,
}

/// What happened to an accepted request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// Stored for processing.
    Stored,
    /// Already received before (same id): nothing new stored.
    Duplicate,
    /// Accepted and dropped unstored: nothing could come of it (I13).
    Dropped,
}

/// The minimal shape every activity must have.
pub struct Envelope {
    /// The activity's id.
    pub id: Url,
    /// Its `type`.
    pub kind: String,
    /// The actor it claims (verified later against the signature).
    pub actor: Url,
    /// The id of its `object`, when it names one.
    pub object: Option<Url>,
}

impl Envelope {
    /// A `Delete` whose object is its own actor: an account deleting itself.
    fn is_self_delete(&self) -> bool {
        self.kind == "Delete" && self.object.as_ref() == Some(&self.actor)
    }
}

/// Reads the envelope of an inbound body: `id` and `type` as strings, `actor` as a URL or an
/// object carrying one; JSON-LD aliases do not count. No other field is trusted here. No
/// database or network work; public so that the fuzz targets in `fuzz/` can reach it.
pub fn envelope(body: &[u8]) -> Result<Envelope, InboxError> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| InboxError::Malformed(format!("the body is not JSON: {e}")))?;
    if !json.is_object() {
        return Err(InboxError::Malformed("the activity must be a JSON object".into()));
    }
    let id = match json.get("id") {
        Some(Value::String(_)) => json.get("id").and_then(id_of),
        _ => None,
    }
    .ok_or_else(|| InboxError::Malformed("the activity needs an id (an http(s) URL)".into()))?;
    let kind = match json.get("type") {
        Some(Value::String(_)) => json.get("type").and_then(|t| string_of(t, 64)),
        _ => None,
    }
    .ok_or_else(|| InboxError::Malformed("the activity needs a type".into()))?;
    let actor = match json.get("actor") {
        Some(v @ (Value::String(_) | Value::Object(_))) => id_of(v),
        _ => None,
    }
    .ok_or_else(|| InboxError::Malformed("the activity needs an actor".into()))?;
    let object = json.get("object").and_then(id_of);
    Ok(Envelope { id, kind, actor, object })
}

/// I2–I5, with no database and no network: the request's signature parses, covers enough,
/// matches the body's digest and is within its time window. The caller runs it first,
/// beside its other cheap checks, and hands the result to [`receive`].
pub fn parse_signature(
    ctx: &FederationContext,
    req: &InboundRequest<'_>,
) -> Result<signatures::ParsedSignature, SignatureError> {
    let authority = ctx.urls.handle_domain();
    let parts = RequestParts {
        method: req.method,
        scheme: ctx.urls.base().url().scheme(),
        authority: &authority,
        path_and_query: req.path_and_query,
        headers: req.headers,
        body: req.body,
    };
    signatures::parse_request(&parts, SystemTime::now())
}

/// Checks, verifies and durably stores one inbound activity whose signature
/// [`parse_signature`] read.
pub async fn receive(
    ctx: &FederationContext,
    req: InboundRequest<'_>,
    signature: signatures::ParsedSignature,
) -> Result<Receipt, InboxError> {
    let activity = envelope(req.body)?;
    // I8: the activity comes from its actor's server, and never claims to be ours.
    if ctx.is_local(&activity.id) || ctx.is_local(&activity.actor) {
        return Err(InboxError::Malformed("activities from this server cannot arrive from outside".into()));
    }
    if activity.id.origin() != activity.actor.origin() {
        return Err(InboxError::Malformed("the activity id is not on its actor's server".into()));
    }
    // I13: an actor we never saw deleting itself leaves nothing to delete; fetching it
    // (a 410 by now) from every server that hears of it would only load its server.
    if activity.is_self_delete() && !known_actor(ctx, &activity.actor).await? {
        return Ok(Receipt::Dropped);
    }
    // I6: the actor whose id is the activity's `actor` signed it.
    let actor = verified_actor(ctx, &activity.actor, &signature).await?;
    // I11, per actor: charged to the verified actor only, so that forged requests cannot
    // spend a real actor's budget.
    if let Some(limits) = req.limits {
        limits.check_actor(&actor.ap_id).map_err(InboxError::RateLimited)?;
    }
    // D7: a verified request from a failing host shows it is alive.
    crate::federation::delivery::hosts::seen_alive(ctx, &activity.actor).await;
    store(ctx, &activity, &actor, req.body).await
}

/// Whether we hold a row for the remote actor `url` (in memory or in the table).
async fn known_actor(ctx: &FederationContext, url: &Url) -> Result<bool, InboxError> {
    if ctx.actors.get(url.as_str()).is_some() {
        return Ok(true);
    }
    Ok(queries::actors::find_by_ap_id(&ctx.db, url.as_str()).await?.is_some())
}

/// The actor whose id is `actor_url`, once its key has verified the request (I6, I7).
///
/// The actor is resolved under its own id (`resolve::actor` refuses a URL that leads to a
/// document with another id), and the signing key must be that actor's. When the key does
/// not verify, it may have rotated: the table (another process may have re-fetched it) and
/// then the actor's server are asked again, at most once per actor per 5 minutes, decided
/// in memory (`key_refetch`), so that forged requests cost no write and evict nothing.
async fn verified_actor(
    ctx: &FederationContext,
    actor_url: &Url,
    signature: &signatures::ParsedSignature,
) -> Result<actors::Model, InboxError> {
    let unverifiable = |e: ResolveError| match e {
        ResolveError::Db(e) => InboxError::from(e),
        e => InboxError::Unauthorized(format!("cannot verify the actor: {e}")),
    };
    let key_id = signature.key_id().as_str();
    let verifies = |a: &actors::Model| {
        // Checked here as well as by the resolver: everything after this credits `a`.
        a.ap_id == actor_url.as_str()
            && a.public_key_id == key_id
            && verify_with(ctx, signature, &a.public_key_id, &a.public_key_pem)
    };
    let actor = resolve::actor(ctx, actor_url, Freshness::Cached).await.map_err(unverifiable)?;
    if verifies(&actor) {
        return Ok(actor);
    }
    if !ctx.key_refetches.try_claim(actor.id, std::time::Instant::now()) {
        return Err(InboxError::Unauthorized("the signature does not verify with the actor's key".into()));
    }
    // The in-memory copy may be older than the table (another process re-fetched).
    if let Some(stored) = resolve::reload(ctx, actor_url).await.map_err(unverifiable)?
        && (stored.public_key_pem != actor.public_key_pem || stored.public_key_id != actor.public_key_id)
        && verifies(&stored)
    {
        return Ok(stored);
    }
    let fresh = resolve::actor(ctx, actor_url, Freshness::Refetch).await.map_err(unverifiable)?;
    if fresh.public_key_id != key_id {
        return Err(InboxError::Unauthorized("the signing key does not belong to the activity's actor".into()));
    }
    if !verifies(&fresh) {
        return Err(InboxError::Unauthorized("the signature does not verify with the actor's key".into()));
    }
    Ok(fresh)
}

fn verify_with(ctx: &FederationContext, signature: &signatures::ParsedSignature, key_id: &str, pem: &str) -> bool {
    match ctx.keys.get_or_parse(key_id, pem) {
        Ok(key) => signature.verify(&key).is_ok(),
        Err(e) => {
            tracing::debug!(error = %e, key_id, "unusable public key");
            false
        }
    }
}

/// The durable insert (I9, I10): the row is committed before we answer 202. Concurrent
/// requests share one statement (group commit, `inbox_writer`); each waits for its own.
async fn store(
    ctx: &FederationContext,
    activity: &Envelope,
    actor: &actors::Model,
    body: &[u8],
) -> Result<Receipt, InboxError> {
    let row = NewInboxRow {
        ap_id: activity.id.to_string(),
        activity_type: activity.kind.clone(),
        actor_ap_id: actor.ap_id.clone(),
        actor_id: actor.id,
        payload: String::from_utf8_lossy(body).into_owned(),
    };
    match ctx.inbox_writer.insert(row).await? {
        Inserted::New => Ok(Receipt::Stored),
        Inserted::Duplicate => Ok(Receipt::Duplicate),
    }
}

/// Inbox row states.
pub const PENDING: &str = "pending";
/// Processed with an effect.
pub const DONE: &str = "done";
/// A type or target we do not handle.
pub const IGNORED: &str = "ignored";
/// Gave up after [`MAX_ATTEMPTS`].
pub const FAILED: &str = "failed";

/// The payload of a row processed for good (I12): the body is dropped, the row stays for
/// deduplication until the retention task purges it.
pub const DROPPED_PAYLOAD: &str = "";

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
/// (one write turn instead of two per round: B2); before the worker sleeps or stops, that
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

/// Rows any worker may lease at `now`: pending, and not leased or the lease ran out.
fn leasable(now: chrono::DateTime<Utc>) -> Condition {
    Condition::all().add(inbox_activities::Column::State.eq(PENDING)).add(
        Condition::any()
            .add(inbox_activities::Column::LeaseUntil.is_null())
            .add(inbox_activities::Column::LeaseUntil.lt(now)),
    )
}

/// The statement that leases the next batch at `now` until `lease_until`: the oldest
/// [`BATCH`] due rows, re-checked as still leasable. The `(state, id)` index lets the
/// database walk pending rows in id order and stop after the batch, whatever the backlog
/// (`tests/it/inbox.rs` checks the plan on both engines).
pub fn lease(
    now: chrono::DateTime<Utc>,
    lease_until: chrono::DateTime<Utc>,
) -> sea_orm::UpdateMany<inbox_activities::Entity> {
    use inbox_activities::Column as C;
    let due = Query::select()
        .column(C::Id)
        .from(inbox_activities::Entity)
        .cond_where(leasable(now).add(C::AvailableAt.lte(now)))
        .order_by(C::Id, Order::Asc)
        .limit(BATCH)
        .to_owned();
    inbox_activities::Entity::update_many()
        .col_expr(C::LeaseUntil, Expr::value(lease_until))
        .col_expr(C::Attempts, Expr::col(C::Attempts).add(1))
        .filter(C::Id.in_subquery(due))
        .filter(leasable(now))
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
async fn round(ctx: &FederationContext, unfinished: &mut Outcomes) -> Result<usize, DbErr> {
    use inbox_activities::Column as C;
    let started = std::time::Instant::now();
    let now = Utc::now();
    let lease_until = now + LEASE;
    let backend = ctx.db.get_database_backend();
    let mut leasing = lease(now, lease_until).into_query();
    leasing.returning_col(C::Id);
    let leasing = backend.build(&leasing);
    let txn = crate::db::begin_write(&ctx.db).await?;
    unfinished.write(&txn, now).await?;
    let leased = txn.query_all_raw(leasing).await?;
    txn.commit().await?;
    *unfinished = Outcomes::default();
    let ids = leased.iter().map(|row| row.try_get_by_index::<i64>(0)).collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Ok(0);
    }
    let rows = inbox_activities::Entity::find().filter(C::Id.is_in(ids)).order_by_asc(C::Id).all(&ctx.db).await?;
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

/// The results of one round, grouped so that each group is finished by one statement.
#[derive(Default)]
struct Outcomes {
    done: Vec<i64>,
    ignored: BTreeMap<&'static str, Vec<i64>>,
    /// Failures: id, error text, whether to give up, attempts so far.
    failed: Vec<(i64, String, bool, i32)>,
    /// Rows a round did not reach, with the lease it took them under: given back as if
    /// never leased (unless leased again since).
    given_back: Vec<(Vec<i64>, chrono::DateTime<Utc>)>,
}

impl Outcomes {
    fn len(&self) -> usize {
        self.done.len() + self.ignored.values().map(Vec::len).sum::<usize>() + self.failed.len()
    }

    fn add(&mut self, row: &inbox_activities::Model, outcome: Result<activities::Handled, activities::HandleError>) {
        match outcome {
            Ok(activities::Handled::Applied) => self.done.push(row.id),
            Ok(activities::Handled::Ignored(reason)) => {
                tracing::debug!(id = %row.ap_id, kind = %row.activity_type, reason, "activity ignored");
                self.ignored.entry(reason).or_default().push(row.id);
            }
            Err(e) => {
                let give_up = !e.is_retryable() || row.attempts >= MAX_ATTEMPTS;
                tracing::warn!(id = %row.ap_id, kind = %row.activity_type, attempts = row.attempts, error = %e, give_up, "activity failed");
                self.failed.push((row.id, e.to_string(), give_up, row.attempts));
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
    async fn write(&self, db: &impl sea_orm::ConnectionTrait, now: chrono::DateTime<Utc>) -> Result<(), DbErr> {
        use inbox_activities::Column as C;
        let no_lease = Expr::value(Option::<chrono::DateTime<Utc>>::None);
        let no_payload = Expr::value(DROPPED_PAYLOAD);
        if !self.done.is_empty() {
            inbox_activities::Entity::update_many()
                .col_expr(C::LeaseUntil, no_lease.clone())
                .col_expr(C::Payload, no_payload.clone())
                .col_expr(C::State, Expr::value(DONE))
                .col_expr(C::ProcessedAt, Expr::value(now))
                .filter(C::Id.is_in(self.done.iter().copied()))
                .exec(db)
                .await?;
        }
        for (reason, ids) in &self.ignored {
            inbox_activities::Entity::update_many()
                .col_expr(C::LeaseUntil, no_lease.clone())
                .col_expr(C::State, Expr::value(IGNORED))
                .col_expr(C::Payload, no_payload.clone())
                .col_expr(C::ProcessedAt, Expr::value(now))
                .col_expr(C::LastError, Expr::value(*reason))
                .filter(C::Id.is_in(ids.iter().copied()))
                .exec(db)
                .await?;
        }
        for (id, error, give_up, attempts) in &self.failed {
            let update = inbox_activities::Entity::update_many()
                .col_expr(C::LeaseUntil, no_lease.clone())
                .col_expr(C::LastError, Expr::value(error.as_str()))
                .filter(C::Id.eq(*id));
            let update = if *give_up {
                update
                    .col_expr(C::State, Expr::value(FAILED))
                    .col_expr(C::ProcessedAt, Expr::value(now))
                    .col_expr(C::Payload, no_payload.clone())
            } else {
                let backoff = Duration::seconds(10 * i64::from(Ord::max(*attempts, 1)).pow(2));
                update.col_expr(C::AvailableAt, Expr::value(now + backoff))
            };
            update.exec(db).await?;
        }
        for (ids, lease_until) in &self.given_back {
            inbox_activities::Entity::update_many()
                .col_expr(C::LeaseUntil, no_lease.clone())
                .col_expr(C::Attempts, Expr::col(C::Attempts).sub(1))
                .filter(C::Id.is_in(ids.iter().copied()))
                .filter(C::LeaseUntil.eq(*lease_until))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}

/// proptest properties of the envelope check: any bytes and any ActivityStreams-shaped JSON
/// are refused cleanly or yield an envelope of http(s) URLs; JSON-LD aliases do not stand in
/// for the plain keys; nesting however deep is refused without exhausting the stack.
#[cfg(test)]
mod props {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::federation::{objects::remote_actor::parse_actor, protocol::lenient::props::as_json};

    #[test]
    fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let depth = 100_000;
            let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            assert!(matches!(envelope(body.as_bytes()), Err(InboxError::Malformed(_))));
            let inside = format!(
                r#"{{"id":"https://r.example/1","type":"Create","actor":"https://r.example/u","object":{}1{}}}"#,
                open.repeat(depth),
                close.repeat(depth)
            );
            assert!(matches!(envelope(inside.as_bytes()), Err(InboxError::Malformed(_))));
        }
    }

    #[test]
    fn json_ld_aliases_and_wrong_shapes_are_refused() {
        let ok = json!({"id": "https://r.example/1", "type": "Follow", "actor": "https://r.example/u"});
        assert!(envelope(ok.to_string().as_bytes()).is_ok());
        for bad in [
            json!({"@id": "https://r.example/1", "@type": "Follow", "as:actor": "https://r.example/u"}),
            json!({"@graph": [ok.clone()]}),
            json!({"id": ["https://r.example/1"], "type": "Follow", "actor": "https://r.example/u"}),
            json!({"id": {"id": "https://r.example/1"}, "type": "Follow", "actor": "https://r.example/u"}),
            json!({"id": "https://r.example/1", "type": ["Follow"], "actor": "https://r.example/u"}),
            json!({"id": "https://r.example/1", "type": "Follow", "actor": ["https://r.example/u"]}),
            json!({"id": "https://r.example/1", "type": "Follow", "actor": {"id": {"id": "https://r.example/u"}}}),
            json!([ok.clone()]),
        ] {
            assert!(envelope(bad.to_string().as_bytes()).is_err(), "{bad}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = envelope(&body);
        }

        #[test]
        fn arbitrary_activities_give_http_urls_or_a_clean_refusal(value in as_json()) {
            if let Ok(env) = envelope(value.to_string().as_bytes()) {
                prop_assert!(matches!(env.id.scheme(), "http" | "https"));
                prop_assert!(matches!(env.actor.scheme(), "http" | "https"));
                prop_assert!(!env.kind.is_empty() || value.get("type") == Some(&json!("")));
                prop_assert!(env.kind.chars().count() <= 64);
                // Only the plain keys count, and `id`/`type` only as strings.
                prop_assert!(value.get("id").is_some_and(Value::is_string));
                prop_assert!(value.get("type").is_some_and(Value::is_string));
            }
        }

        #[test]
        fn arbitrary_actor_documents_never_panic_and_stay_on_their_origin(value in as_json()) {
            let url = Url::parse("https://remote.example/users/ada").unwrap();
            if let Ok(actor) = parse_actor(&value, &url) {
                prop_assert_eq!(&actor.ap_id, &url);
                prop_assert_eq!(actor.inbox.origin(), url.origin());
                prop_assert_eq!(crate::text::sanitize_remote_html(&actor.summary_html), actor.summary_html);
            }
        }
    }
}
