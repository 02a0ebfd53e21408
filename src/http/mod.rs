//! HTTP: routers and thin handlers. A handler extracts, calls one service, maps the result.
//!
//! - `federation/`: WebFinger, host-meta, NodeInfo, actors and collections (JSON for peers).
//! - `pages/`: server-rendered HTML from `frontend/templates`, and the static files.
//! - `api/`: the JSON API for release pipelines (bearer tokens).
//! - `media`: uploaded images.
//! - `ops`: `/healthz`, `/readyz`.
//!
//! Every response carries a strict Content-Security-Policy (no inline script, no plugins)
//! and `nosniff`; bodies are capped at 1 MiB before any handler runs.

pub mod api;
pub mod extract;
pub mod federation;
mod media;
pub mod ops;
pub mod pages;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, header},
};
use tower_http::{set_header::SetResponseHeaderLayer, trace::TraceLayer};

use crate::state::AppState;

/// Largest request body accepted anywhere (FEDERATION.md I1).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The Content-Security-Policy of every response. Pages use only our own stylesheet and
/// images; forms post only to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(federation::routes())
        .merge(pages::routes())
        .merge(ops::routes())
        .merge(api::routes())
        .route("/media/{file}", axum::routing::get(media::serve))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of one request: method and path, never the query, which may carry a secret
/// (the setup link's token) that must not reach the logs.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path(), version = ?request.version())
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
