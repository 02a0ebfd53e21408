//! `GET /api/v1/conversations`: the staff inbox — every inbound reply or mention addressed
//! to one of our actors, newest first, with its author, the post, the thread root, whether
//! staff answered and how long the first answer took.
//!
//! Query: `state=unanswered|answered|all` (default `unanswered`), `actor=NAME`,
//! `limit` (1–100, default 20), `cursor` (the `next` of the previous page).

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    db::entities::{actors, posts},
    error::{AppError, AppResult},
    http::api::auth::ApiToken,
    services::{
        accounts,
        staff_inbox::{self, AnsweredFilter},
    },
    state::AppState,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    state: Option<String>,
    actor: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn actor_json(a: &actors::Model, handle_domain: &str) -> Value {
    let domain = if a.local { handle_domain } else { a.domain.as_str() };
    json!({
        "id": a.ap_id,
        "handle": format!("@{}@{domain}", a.username),
        "name": a.display_name,
        "url": a.profile_url.as_deref().unwrap_or(&a.ap_id),
    })
}

fn post_json(p: &posts::Model) -> Value {
    json!({
        "id": p.id,
        "url": p.ap_id,
        "content_html": p.content_html,
        "in_reply_to": p.in_reply_to_ap_id,
        "published_at": p.published_at,
        "deleted": p.deleted_at.is_some(),
    })
}

pub(super) async fn list(
    State(state): State<AppState>,
    token: ApiToken,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> AppResult<Response> {
    let Query(q) = query.map_err(|e| AppError::bad_request(format!("invalid query: {}", e.body_text())))?;
    let filter = match q.state.as_deref().unwrap_or("unanswered") {
        "unanswered" => AnsweredFilter::Unanswered,
        "answered" => AnsweredFilter::Answered,
        "all" => AnsweredFilter::All,
        other => {
            return Err(AppError::bad_request(format!("state must be unanswered, answered or all, not {other:?}")));
        }
    };
    let limit = q.limit.unwrap_or(20);
    if !(1..=staff_inbox::MAX_CONVERSATIONS_PAGE).contains(&limit) {
        return Err(AppError::bad_request(format!(
            "limit must be between 1 and {}",
            staff_inbox::MAX_CONVERSATIONS_PAGE
        )));
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| c.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| AppError::bad_request("invalid cursor")))
        .transpose()?;
    let actor = match q.actor.as_deref() {
        Some(name) => {
            let account = accounts::find(&state.db, name)
                .await?
                .ok_or_else(|| AppError::not_found(format!("there is no account {name:?} here")))?;
            token.check_acts_as(&account)?;
            Some(account.id)
        }
        // A token limited to one account sees that account's conversations only.
        None => token.0.actor_id,
    };
    let (items, next) = staff_inbox::conversations(&state.db, filter, actor, before, limit).await?;
    let domain = state.urls.handle_domain();
    let items: Vec<Value> = items
        .iter()
        .map(|c| {
            json!({
                "id": c.row.id,
                "kind": c.row.kind.as_str(),
                "actor": actor_json(&c.actor, &domain),
                "author": actor_json(&c.author, &domain),
                "post": post_json(&c.post),
                "thread_root": c.root.as_ref().map(post_json),
                "received_at": c.row.received_at,
                "answered": c.row.answered_at.is_some(),
                "answered_at": c.row.answered_at,
                "answer": c.answer.as_ref().map(post_json),
                "time_to_first_response_seconds": c.time_to_first_response().map(|d| d.num_seconds()),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next": next.map(|n| n.to_string()) })).into_response())
}
