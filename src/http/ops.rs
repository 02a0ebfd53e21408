//! Operations endpoints: `/healthz` says the process is up; `/readyz` says it can reach its
//! database (load balancers route only to ready instances).

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::json;

use crate::{db, state::AppState};

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match db::ping(&state.db).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready", "database": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": "unreachable" })))
        }
    }
}
