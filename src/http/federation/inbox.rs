//! `POST /inbox` (shared) and `POST /users/{username}/inbox`: hand the raw request to the
//! federation inbox, which checks, verifies and stores it, and answer 202 once it is stored.

use std::{net::SocketAddr, time::Duration};

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    federation::inbox::{self, InboundRequest, InboxError},
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
    receive(&state, peer, &method, &uri, &headers, &body).await
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
    match accounts::find_discoverable(&state.db, &username).await {
        Ok(Some(_)) => receive(&state, peer, &method, &uri, &headers, &body).await,
        Ok(None) => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such account" }))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn receive(
    state: &AppState,
    peer: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    // I11, per address: before anything is parsed.
    let ip = rate_limit::client_ip(peer, headers, &state.inbox_limits.trusted_proxies);
    if let Err(wait) = state.inbox_limits.check_ip(ip) {
        tracing::info!(%ip, "inbox: rate limited (address)");
        return too_many_requests(wait);
    }
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request = InboundRequest { method, path_and_query, headers, body, limits: Some(&state.inbox_limits) };
    match inbox::receive(&state.federation, request).await {
        Ok(receipt) => {
            tracing::debug!(?receipt, "inbox: accepted");
            StatusCode::ACCEPTED.into_response()
        }
        Err(InboxError::RateLimited(wait)) => {
            tracing::info!(%ip, "inbox: rate limited (actor)");
            too_many_requests(wait)
        }
        Err(e) => {
            let status = e.status();
            match &e {
                InboxError::Internal(cause) => tracing::error!(error = format!("{cause:#}"), "inbox: internal error"),
                other => tracing::info!(%status, error = %other, "inbox: refused"),
            }
            let message = if status.is_server_error() { "internal error".to_owned() } else { e.to_string() };
            (status, Json(json!({ "error": message }))).into_response()
        }
    }
}

/// 429 with `Retry-After` in whole seconds (I11).
fn too_many_requests(wait: Duration) -> Response {
    let error = InboxError::RateLimited(wait);
    let seconds = inbox::retry_after_seconds(wait).to_string();
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds)], Json(json!({ "error": error.to_string() })))
        .into_response()
}
