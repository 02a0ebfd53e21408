//! `GET /users/{username}/posts/{id}`: the Note for peers, the post page for browsers;
//! `…/activity`: the `Create` that published it; `…/replies`: its replies collection.
//! A deleted post answers 410 with a Tombstone; a private, scheduled or missing one, the
//! same 404.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{
    error::{AppError, AppResult},
    federation::{
        activities::create,
        objects::note::{ApubNote, LdContext, tombstone},
        protocol::{
            collection::{OrderedCollection, OrderedCollectionPage},
            context::ACTIVITYSTREAMS,
        },
    },
    http::{
        extract::{ActivityJson, Representation},
        pages,
    },
    services::{
        posts::{self, Lookup},
        thread_links,
    },
    state::AppState,
};

/// The post a path names (a non-number names nothing).
async fn lookup(state: &AppState, username: &str, id: &str) -> AppResult<Lookup> {
    match id.parse::<i64>() {
        Ok(id) => posts::public(&state.db, username, id).await,
        Err(_) => Err(AppError::not_found("There is no post at this address.")),
    }
}

pub(super) async fn note(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, String)>,
    wants: Representation,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let found = lookup(&state, &username, &id).await;
    if wants == Representation::Html {
        // `?page=N` pages the thread; anything unreadable is page 1.
        let page = uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("page=")))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(1)
            .min(1_000_000);
        let if_none_match = headers.get(axum::http::header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
        return pages::post::render(&state, found, page, if_none_match).await;
    }
    match found {
        Err(e) => e.into_response(),
        Ok(Lookup::Gone { ap_id, deleted_at }) => gone(&ap_id, deleted_at),
        Ok(Lookup::Visible(d)) => match ApubNote(&d).into_json(&state.urls, LdContext::Included) {
            Ok(note) => ActivityJson(note).into_response(),
            Err(e) => AppError::internal(e).into_response(),
        },
    }
}

pub(super) async fn create_activity(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, String)>,
) -> Response {
    match lookup(&state, &username, &id).await {
        Err(e) => e.into_response(),
        Ok(Lookup::Gone { ap_id, deleted_at }) => gone(&ap_id, deleted_at),
        Ok(Lookup::Visible(d)) => {
            let activity_id = Url::parse(&state.urls.post_activity(&d.author.username, d.post.id)).ok();
            let note = ApubNote(&d).into_json(&state.urls, LdContext::Omitted).ok();
            match activity_id.zip(note).and_then(|(id, note)| create::activity(id, &note)) {
                Some(activity) => ActivityJson(activity).into_response(),
                None => AppError::internal(anyhow::anyhow!("post {} cannot be serialized", d.post.id)).into_response(),
            }
        }
    }
}

/// 410 with the Tombstone.
fn gone(ap_id: &str, deleted_at: chrono::DateTime<chrono::Utc>) -> Response {
    match tombstone(ap_id, deleted_at, LdContext::Included) {
        Some(t) => {
            let mut response = ActivityJson(t).into_response();
            *response.status_mut() = StatusCode::GONE;
            response
        }
        None => AppError::gone("this post was deleted").into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    page: Option<String>,
}

/// Replies per page of a `replies` collection.
const REPLIES_PAGE_SIZE: u64 = 20;

/// The post's replies we hold (world-readable ones), oldest first, in pages, so that
/// Mastodon can backfill the thread.
pub(super) async fn replies(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let Lookup::Visible(d) = lookup(&state, &username, &id).await? else {
        return Err(AppError::gone("this post was deleted"));
    };
    let collection = Url::parse(&state.urls.post_replies(&d.author.username, d.post.id)).map_err(AppError::internal)?;
    let page_url = |n: u64| Url::parse(&format!("{collection}?page={n}")).map_err(AppError::internal);
    let context = Value::String(ACTIVITYSTREAMS.into());
    let page = match query.page.as_deref() {
        None => None,
        Some(p) => Some(
            p.parse::<u64>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| AppError::bad_request("page must be a number from 1"))?,
        ),
    };
    let offset = page.unwrap_or(1).saturating_sub(1).saturating_mul(REPLIES_PAGE_SIZE);
    let (total, ids) = thread_links::replies_page(&state.db, d.post.id, offset, REPLIES_PAGE_SIZE).await?;
    let last_page = total.div_ceil(REPLIES_PAGE_SIZE).max(1);
    Ok(match page {
        None => ActivityJson(OrderedCollection {
            context,
            id: collection.clone(),
            kind: Default::default(),
            total_items: total,
            first: page_url(1)?,
            last: page_url(last_page)?,
        })
        .into_response(),
        Some(n) => ActivityJson(OrderedCollectionPage {
            context,
            id: page_url(n)?,
            kind: Default::default(),
            part_of: collection.clone(),
            total_items: total,
            next: if n < last_page { Some(page_url(n + 1)?) } else { None },
            prev: if n > 1 { Some(page_url(n - 1)?) } else { None },
            ordered_items: ids.into_iter().map(Value::String).collect(),
        })
        .into_response(),
    })
}
