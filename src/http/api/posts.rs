//! `/api/v1/posts`: publish, edit and delete posts as a local account.
//!
//! Publishing takes JSON, or `multipart/form-data` with the same fields plus images: each
//! `image` part (a file) takes its alt text from the `alt` part in the same position, as
//! the CLI's `--image`/`--alt` do:
//!
//! ```text
//! curl -H "Authorization: Bearer $TOKEN" -F actor=acme -F text=@notes.md \
//!      -F image=@screenshot.png -F alt="The new dashboard" https://…/api/v1/posts
//! ```

use axum::{
    Json,
    body::to_bytes,
    extract::{FromRequest, Multipart, Path, Request, State, multipart::Field, rejection::JsonRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use crate::{
    db::entities::{actors, posts as post_rows},
    domain::Visibility,
    error::{AppError, AppResult, ErrorKind},
    federation::{
        mentions::{resolve_mentions, resolve_mentions_knowing},
        post_by_url::resolve_reply_target,
    },
    http::api::auth::ApiToken,
    services::{
        accounts, media,
        posts::{self, Draft},
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

/// The largest publishing request: four images of 10 MiB and the text around them.
pub(super) const MAX_PUBLISH_BYTES: usize =
    media::MAX_ATTACHMENTS * media::MAX_MEDIA_BYTES + crate::http::MAX_BODY_BYTES;

pub(super) async fn create(State(state): State<AppState>, token: ApiToken, request: Request) -> AppResult<Response> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let (input, uploads) = if content_type.starts_with("multipart/form-data") {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| AppError::bad_request(format!("invalid form: {}", e.body_text())))?;
        read_form(form).await?
    } else if content_type.starts_with("application/json") {
        // JSON stays within the usual 1 MiB; only forms carry images.
        let bytes = to_bytes(request.into_body(), crate::http::MAX_BODY_BYTES)
            .await
            .map_err(|_| AppError::new(ErrorKind::TooLarge, "a JSON body is at most 1 MiB (send images as a form)"))?;
        (body(Json::<NewPost>::from_bytes(&bytes))?, Vec::new())
    } else {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "send application/json, or multipart/form-data to attach images",
        ));
    };
    publish_new(state, token, input, uploads).await
}

/// The fields of a publishing form, checked as they stream in: unknown or repeated fields and
/// oversized parts are refused before the rest is read.
async fn read_form(mut form: Multipart) -> AppResult<(NewPost, Vec<media::Upload>)> {
    let bad =
        |e: axum::extract::multipart::MultipartError| AppError::bad_request(format!("invalid form: {}", e.body_text()));
    let mut fields: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let (mut images, mut alts) = (Vec::new(), Vec::new());
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" => {
                if images.len() == media::MAX_ATTACHMENTS {
                    return Err(AppError::unprocessable(format!("at most {} images per post", media::MAX_ATTACHMENTS)));
                }
                images.push(read_part(field, media::MAX_MEDIA_BYTES, "an image is larger than 10 MiB").await?);
            }
            "alt" => {
                let bytes = read_part(field, crate::http::MAX_BODY_BYTES, "alt text is too long").await?;
                alts.push(utf8(bytes, "alt")?);
            }
            "actor" | "text" | "cw" | "visibility" | "scheduled_at" | "in_reply_to" => {
                let bytes = read_part(field, crate::http::MAX_BODY_BYTES, "a text field is larger than 1 MiB").await?;
                let value = utf8(bytes, &name)?;
                if fields.insert(name.clone(), value).is_some() {
                    return Err(AppError::bad_request(format!("the field {name:?} is given twice")));
                }
            }
            other => return Err(AppError::bad_request(format!("unknown field {other:?}"))),
        }
    }
    if images.len() != alts.len() {
        return Err(AppError::unprocessable(
            "give one alt for each image, in the same order (alt text describes the image for people who cannot see it)",
        ));
    }
    let mut take = |key: &str| fields.remove(key);
    let input = NewPost {
        actor: take("actor").ok_or_else(|| AppError::bad_request("the field \"actor\" is missing"))?,
        text: take("text").ok_or_else(|| AppError::bad_request("the field \"text\" is missing"))?,
        cw: take("cw"),
        visibility: take("visibility"),
        scheduled_at: take("scheduled_at"),
        in_reply_to: take("in_reply_to"),
    };
    let uploads = images.into_iter().zip(alts).map(|(bytes, alt)| media::Upload { bytes, alt }).collect();
    Ok((input, uploads))
}

/// Reads one form part, refusing it as soon as it passes `limit` bytes.
async fn read_part(mut field: Field<'_>, limit: usize, too_large: &str) -> AppResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) =
        field.chunk().await.map_err(|e| AppError::bad_request(format!("invalid form: {}", e.body_text())))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::new(ErrorKind::TooLarge, too_large));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn utf8(bytes: Vec<u8>, field: &str) -> AppResult<String> {
    String::from_utf8(bytes).map_err(|_| AppError::bad_request(format!("the field {field:?} is not UTF-8 text")))
}

async fn publish_new(
    state: AppState,
    token: ApiToken,
    input: NewPost,
    uploads: Vec<media::Upload>,
) -> AppResult<Response> {
    let actor = accounts::find(&state.db, &input.actor)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no account {:?} here", input.actor)))?;
    token.check_acts_as(&actor)?;
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
    let mentioned = resolve_mentions_knowing(&state.federation, &input.text, &known).await?;
    let draft = Draft {
        text: input.text,
        content_warning: input.cw,
        visibility,
        scheduled_at,
        in_reply_to,
        mentioned,
        uploads,
    };
    let media_dir = media::media_dir(&state.config.data_dir);
    let post = posts::publish(&state.db, &state.urls, &media_dir, &actor, draft).await?;
    state.federation.outbox_wakeup.notify_one();
    Ok(answer(StatusCode::CREATED, &post))
}

/// The post `id` and its author, when the token may act as them.
async fn own(state: &AppState, token: &ApiToken, id: &str) -> AppResult<(post_rows::Model, actors::Model)> {
    let not_found = || AppError::not_found(format!("there is no post {id:?}"));
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let details = posts::details(&state.db, id).await?.filter(|d| d.post.local).ok_or_else(not_found)?;
    token.check_acts_as(&details.author)?;
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
