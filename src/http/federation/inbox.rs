//! `POST /inbox` (shared) and `POST /users/{username}/inbox`: hand the raw request to the
//! federation inbox, which checks, verifies and stores it, and answer 202 once it is stored.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    federation::inbox::{self, InboundRequest, InboxError},
    services::accounts,
    state::AppState,
};

pub(super) async fn shared_inbox(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(&state, &method, &uri, &headers, &body).await
}

pub(super) async fn actor_inbox(
    State(state): State<AppState>,
    Path(username): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accounts::find_discoverable(&state.db, &username).await {
        Ok(Some(_)) => receive(&state, &method, &uri, &headers, &body).await,
        Ok(None) => (StatusCode::NOT_FOUND, Json(json!({ "error": "no such account" }))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn receive(state: &AppState, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request = InboundRequest { method, path_and_query, headers, body };
    match inbox::receive(&state.federation, request).await {
        Ok(receipt) => {
            tracing::debug!(?receipt, "inbox: accepted");
            StatusCode::ACCEPTED.into_response()
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
