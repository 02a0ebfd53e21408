//! `GET /users/{username}/{outbox|followers|following|featured}`: paged ordered collections.
//!
//! The summary document gives the size and the first page; `?page=N` gives a page.
//! `followers` and `following` list actor ids (40 a page); `outbox` lists the `Create` of
//! every public and unlisted post, newest first (20 a page); `featured` is empty until
//! pinned posts land.

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{
    error::{AppError, AppResult},
    federation::{
        activities::create,
        objects::note::{ApubNote, LdContext},
        protocol::{
            collection::{OrderedCollection, OrderedCollectionPage},
            context::{ACTIVITYSTREAMS, note_context},
        },
    },
    http::extract::ActivityJson,
    services::{
        accounts, follows,
        posts::{self, PostDetails},
    },
    state::AppState,
};

fn ids(actors: Vec<crate::db::entities::actors::Model>) -> Vec<Value> {
    actors.into_iter().map(|a| Value::String(a.ap_id)).collect()
}

/// The `Create` of a post, as its outbox lists it.
fn create_of(id: String, d: &PostDetails, state: &AppState) -> Option<Value> {
    let note = ApubNote(d).into_json(&state.urls, LdContext::Omitted).ok()?;
    let activity = create::activity(Url::parse(&id).ok()?, &note)?;
    let mut value = serde_json::to_value(activity).ok()?;
    if let Some(map) = value.as_object_mut() {
        map.remove("@context");
        map.insert("published".into(), Value::String(note.published));
    }
    Some(value)
}

/// The collections every local actor has.
const COLLECTIONS: &[&str] = &["outbox", "followers", "following", "featured"];

#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    page: Option<String>,
}

pub(super) async fn collection(
    State(state): State<AppState>,
    Path((username, name)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    if !COLLECTIONS.contains(&name.as_str()) {
        return Err(AppError::not_found("no such collection"));
    }
    let actor = accounts::find(&state.db, &username).await?.ok_or_else(|| AppError::not_found("no such account"))?;
    let id = Url::parse(&format!("{}/{name}", actor.ap_id)).map_err(AppError::internal)?;
    let (followers, following) = follows::counts(&state.db, actor.id).await?;
    let (total, page_size) = match name.as_str() {
        "followers" => (followers, follows::PAGE_SIZE),
        "following" => (following, follows::PAGE_SIZE),
        "outbox" => (posts::count_listed(&state.db, actor.id).await?, posts::PAGE_SIZE),
        _ => (0, follows::PAGE_SIZE),
    };
    let last_page = total.div_ceil(page_size).max(1);
    let page_url = |n: u64| Url::parse(&format!("{id}?page={n}")).map_err(AppError::internal);
    // Outbox items carry Notes, whose terms (`sensitive`, `Hashtag`) need the wider context.
    let context = if name == "outbox" { note_context() } else { Value::String(ACTIVITYSTREAMS.into()) };
    match query.page {
        None => Ok(ActivityJson(OrderedCollection {
            context,
            id: id.clone(),
            kind: Default::default(),
            total_items: total,
            first: page_url(1)?,
            last: page_url(last_page)?,
        })
        .into_response()),
        Some(page) => {
            let n: u64 = page
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| AppError::bad_request("page must be a number from 1"))?;
            let ordered_items: Vec<Value> = match name.as_str() {
                "followers" => ids(follows::followers_page(&state.db, actor.id, n).await?),
                "following" => ids(follows::following_page(&state.db, actor.id, n).await?),
                "outbox" => posts::listed_page(&state.db, &actor, n)
                    .await?
                    .iter()
                    .filter_map(|d| create_of(state.urls.post_activity(&d.author.username, d.post.id), d, &state))
                    .collect(),
                _ => Vec::new(),
            };
            Ok(ActivityJson(OrderedCollectionPage {
                context,
                id: page_url(n)?,
                kind: Default::default(),
                part_of: id.clone(),
                total_items: total,
                next: if n < last_page { Some(page_url(n + 1)?) } else { None },
                prev: if n > 1 { Some(page_url(n - 1)?) } else { None },
                ordered_items,
            })
            .into_response())
        }
    }
}
