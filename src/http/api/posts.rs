//! `/api/v1/posts`: publish, edit and delete posts as a local account.

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use crate::{
    db::entities::{actors, posts as post_rows},
    domain::Visibility,
    error::{AppError, AppResult},
    federation::mentions::{resolve_mentions, resolve_mentions_knowing, resolve_reply_target},
    http::api::auth::ApiToken,
    services::{
        accounts, media,
        posts::{self, Draft},
        tokens,
    },
    state::AppState,
};

/// `POST /api/v1/posts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewPost {
    /// The account that publishes (username).
    actor: String,
    /// Markdown.
    text: String,
    #[serde(default)]
    cw: Option<String>,
    /// `public` (default), `unlisted` or `followers`.
    #[serde(default)]
    visibility: Option<String>,
    /// RFC 3339; in the future, the post waits until then.
    #[serde(default)]
    scheduled_at: Option<String>,
    /// The URL of the post this one answers (ours or remote).
    #[serde(default)]
    in_reply_to: Option<String>,
}

/// `PATCH /api/v1/posts/{id}`: `cw` absent keeps the warning, `null` removes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PostChange {
    text: String,
    #[serde(default, deserialize_with = "present")]
    cw: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn body<T>(parsed: Result<Json<T>, JsonRejection>) -> AppResult<T> {
    parsed.map(|Json(v)| v).map_err(|e| AppError::bad_request(format!("invalid request body: {}", e.body_text())))
}

fn answer(status: StatusCode, post: &post_rows::Model) -> Response {
    let state = match (post.deleted_at, post.published_at) {
        (Some(_), _) => "deleted",
        (None, Some(_)) => "published",
        (None, None) => "scheduled",
    };
    let body = json!({
        "id": post.id,
        "url": post.ap_id,
        "state": state,
        "visibility": post.visibility,
        "published_at": post.published_at,
        "scheduled_at": post.scheduled_at,
        "edited_at": post.edited_at,
        "in_reply_to": post.in_reply_to_ap_id,
    });
    (status, [(header::LOCATION, post.ap_id.clone())], Json(body)).into_response()
}

fn check_token(token: &ApiToken, actor: &actors::Model) -> AppResult<()> {
    if tokens::may_act_as(&token.0, actor) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!("this token cannot act as @{}", actor.username)))
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    token: ApiToken,
    parsed: Result<Json<NewPost>, JsonRejection>,
) -> AppResult<Response> {
    let input = body(parsed)?;
    let actor = accounts::find(&state.db, &input.actor)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no account {:?} here", input.actor)))?;
    check_token(&token, &actor)?;
    let visibility = match input.visibility.as_deref() {
        None => Visibility::Public,
        Some(v) => v.parse().map_err(AppError::unprocessable)?,
    };
    let scheduled_at = input
        .scheduled_at
        .as_deref()
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                AppError::unprocessable("scheduled_at must be an RFC 3339 time such as 2026-12-01T09:00:00Z")
            })
        })
        .transpose()?;
    let in_reply_to = match input.in_reply_to.as_deref() {
        Some(url) => Some(resolve_reply_target(&state.federation, url).await?),
        None => None,
    };
    let known: Vec<_> = in_reply_to.iter().map(|t| t.author.clone()).collect();
    let mentions = resolve_mentions_knowing(&state.federation, &input.text, &known).await?;
    let draft = Draft { text: input.text, content_warning: input.cw, visibility, scheduled_at, in_reply_to };
    let media_dir = media::media_dir(&state.config.data_dir);
    let post = posts::publish(&state.db, &state.urls, &media_dir, &actor, draft, &mentions, Vec::new()).await?;
    state.federation.outbox_wakeup.notify_one();
    Ok(answer(StatusCode::CREATED, &post))
}

/// The post `id` and its author, when the token may act as them.
async fn own(state: &AppState, token: &ApiToken, id: &str) -> AppResult<(post_rows::Model, actors::Model)> {
    let not_found = || AppError::not_found(format!("there is no post {id:?}"));
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let details = posts::details(&state.db, id).await?.filter(|d| d.post.local).ok_or_else(not_found)?;
    check_token(token, &details.author)?;
    Ok((details.post, details.author))
}

pub(super) async fn update(
    State(state): State<AppState>,
    token: ApiToken,
    Path(id): Path<String>,
    parsed: Result<Json<PostChange>, JsonRejection>,
) -> AppResult<Response> {
    let (post, author) = own(&state, &token, &id).await?;
    let change = body(parsed)?;
    let cw = match change.cw {
        None => post.summary.clone(),
        Some(new) => new,
    };
    let mentions = resolve_mentions(&state.federation, &change.text).await?;
    let post = posts::edit(&state.db, &state.urls, &author, post.id, &change.text, cw.as_deref(), &mentions).await?;
    state.federation.outbox_wakeup.notify_one();
    Ok(answer(StatusCode::OK, &post))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    token: ApiToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (post, author) = own(&state, &token, &id).await?;
    let post = posts::delete(&state.db, &author, post.id).await?;
    state.federation.outbox_wakeup.notify_one();
    Ok(answer(StatusCode::OK, &post))
}

/// `GET /api/v1/posts/{id}/deliveries`: how far each of the post's activities got, per host.
pub(super) async fn deliveries(
    State(state): State<AppState>,
    token: ApiToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (post, _) = own(&state, &token, &id).await?;
    let progress = crate::services::deliveries::for_post(&state.db, &post).await?;
    Ok(Json(json!({ "post": post.ap_id, "activities": progress })).into_response())
}

/// `GET /api/v1/deliveries`: queue depth by outcome and the failing hosts.
pub(super) async fn queue(State(state): State<AppState>, _token: ApiToken) -> AppResult<Response> {
    Ok(Json(crate::services::deliveries::queue(&state.db).await?).into_response())
}
