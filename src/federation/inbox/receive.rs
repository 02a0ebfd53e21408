//! Receiving one activity (FEDERATION.md §4): the envelope, the origin rules, the verified
//! actor, the per-actor limit and the durable insert, in that order (the diagram is in
//! `inbox/mod.rs`). The http layer's cheap checks run [`parse_signature`] first.

use std::time::{Duration as StdDuration, SystemTime};

use axum::http::{HeaderMap, Method, StatusCode};
use sea_orm::DbErr;
use serde_json::Value;
use url::Url;

use super::writer::{Inserted, NewInboxRow};
use crate::{
    db::{entities::actors, queries},
    federation::{
        context::FederationContext,
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
#[tracing::instrument(
    skip_all,
    fields(activity_id = tracing::field::Empty, kind = tracing::field::Empty, actor = tracing::field::Empty)
)]
pub async fn receive(
    ctx: &FederationContext,
    req: InboundRequest<'_>,
    signature: signatures::ParsedSignature,
) -> Result<Receipt, InboxError> {
    let activity = envelope(req.body)?;
    let span = tracing::Span::current();
    span.record("activity_id", activity.id.as_str());
    span.record("kind", activity.kind.as_str());
    span.record("actor", activity.actor.as_str());
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
/// requests share one statement (group commit, `writer.rs`); each waits for its own.
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

#[cfg(test)]
mod props;
