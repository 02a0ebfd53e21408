//! Follow requests to locked accounts (beta programs), for staff tooling:
//! `GET /api/v1/follow-requests?actor=NAME`, `POST /api/v1/follow-requests/{id}/approve`
//! and `…/reject`.

use axum::{
    Json,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    db::queries,
    error::{AppError, AppResult},
    http::api::auth::ApiToken,
    services::{accounts, follows},
    state::AppState,
};

#[derive(Debug, Deserialize)]
pub(super) struct ActorQuery {
    actor: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    token: ApiToken,
    Query(q): Query<ActorQuery>,
) -> AppResult<Response> {
    let name = q.actor.ok_or_else(|| AppError::bad_request("the actor parameter is required"))?;
    let account =
        accounts::find(&state.db, &name).await?.ok_or_else(|| AppError::not_found(format!("no account {name:?}")))?;
    token.check_acts_as(&account)?;
    let pending = follows::pending_for(&state.db, account.id).await?;
    let items: Vec<_> = pending
        .into_iter()
        .map(|(request, from)| {
            json!({
                "id": request.id,
                "actor": from.ap_id,
                "handle": format!("@{}@{}", from.username, from.domain),
                "name": from.display_name,
                "requested_at": request.created_at,
            })
        })
        .collect();
    Ok(Json(json!({ "actor": account.ap_id, "requests": items })).into_response())
}

/// The pending request `id`, when the token may decide for its account.
async fn request(state: &AppState, token: &ApiToken, id: i64) -> AppResult<()> {
    let row = queries::follows::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no follow request {id}")))?;
    let account = queries::actors::find(&state.db, row.followee_id)
        .await?
        .filter(|a| a.local)
        .ok_or_else(|| AppError::not_found(format!("no follow request {id}")))?;
    token.check_acts_as(&account)
}

pub(super) async fn approve(
    State(state): State<AppState>,
    token: ApiToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    request(&state, &token, id).await?;
    follows::approve(&state.db, id).await?;
    state.federation.outbox_wakeup.notify_one();
    Ok(Json(json!({ "id": id, "state": "accepted" })).into_response())
}

pub(super) async fn reject(State(state): State<AppState>, token: ApiToken, Path(id): Path<i64>) -> AppResult<Response> {
    request(&state, &token, id).await?;
    follows::reject(&state.db, id).await?;
    state.federation.outbox_wakeup.notify_one();
    Ok(Json(json!({ "id": id, "state": "rejected" })).into_response())
}
