//! `POST /inbox` (shared) and `POST /users/{username}/inbox`: hand the raw request to the
//! federation inbox, which checks, verifies and stores it, and answer 202 once it is stored.
//!
//! Both doors run the same cheap checks first, in the same order (per-address limit, content
//! type, signature parse), before anything touches the database: a personal inbox looks its
//! account up only after them, so an unsigned or over-limit request costs no query and
//! learns nothing about which accounts exist.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, Method, StatusCode, Uri, header, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    federation::{
        inbox::{self, InboundRequest, InboxError},
        signatures::ParsedSignature,
    },
    rate_limit,
    services::accounts,
    state::AppState,
};

pub(super) async fn shared_inbox(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = inbound(&state, &method, &uri, &headers, &body);
    match cheap_checks(&state, peer, &request) {
        Ok((ip, signature)) => receive(&state, ip, request, signature).await,
        Err(refused) => *refused,
    }
}

pub(super) async fn actor_inbox(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(username): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = inbound(&state, &method, &uri, &headers, &body);
    let (ip, signature) = match cheap_checks(&state, peer, &request) {
        Ok(checked) => checked,
        Err(refused) => return *refused,
    };
    match accounts::find_discoverable(&state.db, &username).await {
        Ok(Some(_)) => receive(&state, ip, request, signature).await,
        Ok(None) => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such account" }))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The request as the federation inbox reads it.
fn inbound<'a>(
    state: &'a AppState,
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a [u8],
) -> InboundRequest<'a> {
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    InboundRequest { method, path_and_query, headers, body, limits: Some(&state.inbox_limits) }
}

/// The checks that need no database and no network, cheapest first: the per-address limit
/// (I11), the content type, and the signature's shape, coverage, digest and time (I2–I5).
/// Returns the client address and the parsed signature (parsed once, here), or the answer
/// refusing the request (boxed: it is large).
fn cheap_checks(
    state: &AppState,
    peer: SocketAddr,
    request: &InboundRequest<'_>,
) -> Result<(IpAddr, ParsedSignature), Box<Response>> {
    // I11, per address: before anything is parsed.
    let ip = rate_limit::client_ip(peer, request.headers, &state.inbox_limits.trusted_proxies);
    if let Err(wait) = state.inbox_limits.check_ip(ip) {
        tracing::info!(%ip, "inbox: rate limited (address)");
        return Err(Box::new(too_many_requests(wait)));
    }
    if !is_json_content_type(request.headers) {
        let error = "activities are JSON: application/activity+json or application/ld+json";
        return Err(Box::new((StatusCode::UNSUPPORTED_MEDIA_TYPE, Json(json!({ "error": error }))).into_response()));
    }
    match inbox::parse_signature(&state.federation, request) {
        Ok(signature) => Ok((ip, signature)),
        Err(e) => Err(Box::new(refusal(&InboxError::Signature(e)))),
    }
}

/// Verifies and stores a request that passed [`cheap_checks`].
async fn receive(state: &AppState, ip: IpAddr, request: InboundRequest<'_>, signature: ParsedSignature) -> Response {
    match inbox::receive(&state.federation, request, signature).await {
        Ok(receipt) => {
            tracing::debug!(?receipt, "inbox: accepted");
            StatusCode::ACCEPTED.into_response()
        }
        Err(InboxError::RateLimited(wait)) => {
            tracing::info!(%ip, "inbox: rate limited (actor)");
            too_many_requests(wait)
        }
        Err(e) => refusal(&e),
    }
}

/// The answer to a refused request: its status and, for 4xx, the reason (logged as well).
fn refusal(e: &InboxError) -> Response {
    let status = e.status();
    match e {
        InboxError::Internal(cause) => tracing::error!(error = format!("{cause:#}"), "inbox: internal error"),
        other => tracing::info!(%status, error = %other, "inbox: refused"),
    }
    let message = if status.is_server_error() { "internal error".to_owned() } else { e.to_string() };
    (status, Json(json!({ "error": message }))).into_response()
}

/// 429 with `Retry-After` in whole seconds (I11).
fn too_many_requests(wait: Duration) -> Response {
    let error = InboxError::RateLimited(wait);
    let seconds = inbox::retry_after_seconds(wait).to_string();
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds)], Json(json!({ "error": error.to_string() })))
        .into_response()
}

/// Whether the body is declared as JSON: `application/json` or any `application/*+json`
/// (`activity+json`, `ld+json`), or not declared at all, as a few servers omit it. Forms,
/// multipart and text are refused with 415 before the signature is looked at: they are what
/// a browser may send to another site without asking first, and never an activity.
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else { return true };
    let Ok(value) = value.to_str() else { return false };
    let media = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_json_media_types_are_activities() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
            is_json_content_type(&h)
        };
        for ok in [
            "application/activity+json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "Application/JSON; charset=utf-8",
        ] {
            assert!(with(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "text/html",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "json",
        ] {
            assert!(!with(bad), "{bad}");
        }
        assert!(is_json_content_type(&HeaderMap::new()), "absent is tolerated");
    }
}
