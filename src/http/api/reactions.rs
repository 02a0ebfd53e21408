//! Likes and boosts by our accounts: `POST /api/v1/reactions` with `{actor, object, kind}`
//! (`kind` is `like` or `boost`; `object` is the URL of a post, ours or on any server) and
//! `DELETE /api/v1/reactions/{id}` to withdraw one. The post's author hears a `Like`; a
//! boost is also sent to the booster's followers.

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    db::entities::{actors, reactions as reaction_rows},
    error::{AppError, AppResult},
    federation::post_by_url::resolve_post,
    http::api::auth::ApiToken,
    services::{accounts, reactions, reactions_received::Reaction},
    state::AppState,
};

/// `POST /api/v1/reactions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewReaction {
    /// The account that reacts (username).
    actor: String,
    /// The URL of the post.
    object: String,
    /// `like` or `boost`.
    kind: String,
}

fn answer(status: StatusCode, row: &reaction_rows::Model, object: &str, actor: &actors::Model) -> Response {
    let kind = if row.kind == Reaction::Announce { "boost" } else { "like" };
    let body = json!({ "id": row.id, "kind": kind, "actor": actor.username, "object": object, "ap_id": row.ap_id });
    (status, Json(body)).into_response()
}

pub(super) async fn create(
    State(state): State<AppState>,
    token: ApiToken,
    parsed: Result<Json<NewReaction>, JsonRejection>,
) -> AppResult<Response> {
    let Json(input) = parsed.map_err(|e| AppError::bad_request(format!("invalid request body: {}", e.body_text())))?;
    let reaction = match input.kind.as_str() {
        "like" => Reaction::Like,
        "boost" => Reaction::Announce,
        other => return Err(AppError::unprocessable(format!("kind must be \"like\" or \"boost\", not {other:?}"))),
    };
    let actor = accounts::find(&state.db, &input.actor)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no account {:?} here", input.actor)))?;
    token.check_acts_as(&actor)?;
    let post = resolve_post(&state.federation, &input.object).await?;
    let given = reactions::give(&state.db, &state.urls, &actor, &post, reaction).await?;
    state.federation.outbox_wakeup.notify_one();
    let status = if given.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(answer(status, &given.reaction, &post.ap_id, &actor))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    token: ApiToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let not_found = || AppError::not_found(format!("there is no reaction {id:?}"));
    let row = match id.parse::<i64>() {
        Ok(n) => reactions::find(&state.db, n).await?.ok_or_else(not_found)?,
        Err(_) => return Err(not_found()),
    };
    let actor =
        crate::db::queries::actors::find(&state.db, row.actor_id).await?.filter(|a| a.local).ok_or_else(not_found)?;
    token.check_acts_as(&actor)?;
    reactions::withdraw(&state.db, &actor, &row).await?;
    state.federation.outbox_wakeup.notify_one();
    Ok(Json(json!({ "id": row.id, "withdrawn": true })).into_response())
}
