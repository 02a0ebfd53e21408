//! Sending one delivery: the activity's body and `Digest` prepared once per activity, the
//! sender's key parsed once per actor, a fresh signature per attempt, one POST.

use std::{sync::Arc, time::SystemTime};

use axum::{
    body::Bytes,
    http::{
        HeaderMap, HeaderValue, Method,
        header::{CONNECTION, CONTENT_TYPE},
    },
};
use sea_orm::DbErr;
use url::Url;

use super::Shared;
use crate::{
    db::{entities::deliveries, queries},
    federation::{
        ACTIVITY_JSON,
        fetch::FetchError,
        signatures::{SigningKey, sha256_digest_header, sign_with_digest},
    },
};

/// What every delivery of one activity shares: sender, body, and the body's `Digest`.
#[derive(Clone)]
pub(super) struct Payload {
    actor_id: i64,
    body: Bytes,
    digest: Arc<str>,
}

/// Whether to keep the connection open after the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Connection {
    /// More rows for the host are queued: leave the connection in the pool.
    KeepAlive,
    /// The last row queued for its host: ask the peer to close it (`Connection: close`).
    Close,
}

/// Why a delivery could not be sent.
pub(super) enum SendError {
    /// Never deliverable (bad URL, missing key…).
    Permanent(String),
    /// Network trouble: retry.
    Temporary(String),
}

/// POSTs the activity to the row's inbox.
pub(super) async fn send(
    shared: &Shared,
    row: &deliveries::Model,
    connection: Connection,
) -> Result<(reqwest::StatusCode, Option<String>), SendError> {
    let inbox = Url::parse(&row.inbox_url).map_err(|e| SendError::Permanent(format!("bad inbox URL: {e}")))?;
    let payload = payload(shared, row.activity_id).await.map_err(|e| SendError::Temporary(e.to_string()))?;
    let key = signing_key(shared, payload.actor_id).await?;
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
    if connection == Connection::Close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    sign_with_digest(&key, &Method::POST, &inbox, &mut headers, Some(&payload.digest), SystemTime::now())
        .map_err(|e| SendError::Permanent(format!("signing: {e}")))?;
    match shared.ctx.fetcher.post_activity(&inbox, headers, payload.body).await {
        Ok(result) => Ok(result),
        Err(FetchError::Refused(url)) => Err(SendError::Permanent(format!("refused to deliver to {url}"))),
        Err(e) => Err(SendError::Temporary(e.to_string())),
    }
}

/// The activity's JSON, its digest and its actor, prepared once for the many deliveries of
/// one activity.
async fn payload(shared: &Shared, activity_id: i64) -> Result<Payload, DbErr> {
    if let Some(cached) = shared.payloads.lock().ok().and_then(|p| p.get(&activity_id).cloned()) {
        return Ok(cached);
    }
    let row = queries::deliveries::activity(&shared.ctx.db, activity_id)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("activity {activity_id} vanished")))?;
    let body = Bytes::from(row.payload.into_bytes());
    let payload = Payload { actor_id: row.actor_id, digest: sha256_digest_header(&body).into(), body };
    if let Ok(mut p) = shared.payloads.lock() {
        if p.len() >= 256 {
            p.clear();
        }
        p.insert(activity_id, payload.clone());
    }
    Ok(payload)
}

/// The sender's signing key, parsed once per actor.
async fn signing_key(shared: &Shared, actor_id: i64) -> Result<Arc<SigningKey>, SendError> {
    if let Some(key) = shared.keys.lock().ok().and_then(|k| k.get(&actor_id).cloned()) {
        return Ok(key);
    }
    let db = &shared.ctx.db;
    let actor = queries::actors::find(db, actor_id)
        .await
        .map_err(|e| SendError::Temporary(e.to_string()))?
        .ok_or_else(|| SendError::Permanent("the sending actor is gone".into()))?;
    let pem = queries::actors::private_key(db, actor_id)
        .await
        .map_err(|e| SendError::Temporary(e.to_string()))?
        .ok_or_else(|| SendError::Permanent("the sending actor has no key".into()))?;
    let key_id = Url::parse(&actor.public_key_id).map_err(|e| SendError::Permanent(e.to_string()))?;
    let key = Arc::new(SigningKey::from_pkcs8_pem(key_id, &pem).map_err(|e| SendError::Permanent(e.to_string()))?);
    if let Ok(mut keys) = shared.keys.lock() {
        if keys.len() >= 1024 {
            keys.clear();
        }
        keys.insert(actor_id, key.clone());
    }
    Ok(key)
}
