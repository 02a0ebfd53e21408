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
        activities::outbound,
        objects::note::{ApubNote, tombstone},
        protocol::{
            collection::{OrderedCollection, OrderedCollectionPage},
            context::ACTIVITYSTREAMS,
        },
    },
    http::{
        extract::{ActivityJson, Representation},
        pages,
    },
    services::posts::{self, Lookup},
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
        return pages::post::render(&state, found, page).await;
    }
    match found {
        Err(e) => e.into_response(),
        Ok(Lookup::Gone { ap_id, deleted_at }) => gone(&ap_id, deleted_at),
        Ok(Lookup::Visible(d)) => match ApubNote(&d).into_json(&state.urls, true) {
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
            let note = ApubNote(&d).into_json(&state.urls, false).ok();
            match activity_id.zip(note).and_then(|(id, note)| outbound::note_activity(id, "Create", &note)) {
                Some(activity) => ActivityJson(activity).into_response(),
                None => AppError::internal(anyhow::anyhow!("post {} cannot be serialized", d.post.id)).into_response(),
            }
        }
    }
}

/// 410 with the Tombstone.
fn gone(ap_id: &str, deleted_at: chrono::DateTime<chrono::Utc>) -> Response {
    match tombstone(ap_id, deleted_at, true) {
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

/// Replies arrive with the conversations work; until then the collection is empty.
pub(super) async fn replies(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let Lookup::Visible(d) = lookup(&state, &username, &id).await? else {
        return Err(AppError::gone("this post was deleted"));
    };
    let collection = Url::parse(&state.urls.post_replies(&d.author.username, d.post.id)).map_err(AppError::internal)?;
    let first = Url::parse(&format!("{collection}?page=1")).map_err(AppError::internal)?;
    let context = Value::String(ACTIVITYSTREAMS.into());
    Ok(match query.page {
        None => ActivityJson(OrderedCollection {
            context,
            id: collection,
            kind: Default::default(),
            total_items: 0,
            first: first.clone(),
            last: first,
        })
        .into_response(),
        Some(_) => ActivityJson(OrderedCollectionPage {
            context,
            id: first,
            kind: Default::default(),
            part_of: collection,
            total_items: 0,
            next: None,
            prev: None,
            ordered_items: Vec::new(),
        })
        .into_response(),
    })
}
