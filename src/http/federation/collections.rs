//! `GET /users/{username}/{outbox|followers|following|featured}`: paged ordered collections.
//!
//! The summary document gives the size and the first page; `?page=N` gives a page of 40.
//! `followers` and `following` list actor ids; `outbox` and `featured` fill with publishing.

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{
    error::{AppError, AppResult},
    federation::protocol::{
        collection::{OrderedCollection, OrderedCollectionPage},
        context::ACTIVITYSTREAMS,
    },
    http::extract::ActivityJson,
    services::{accounts, follows},
    state::AppState,
};

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
    let total = match name.as_str() {
        "followers" => followers,
        "following" => following,
        _ => 0,
    };
    let last_page = total.div_ceil(follows::PAGE_SIZE).max(1);
    let page_url = |n: u64| Url::parse(&format!("{id}?page={n}")).map_err(AppError::internal);
    let context = Value::String(ACTIVITYSTREAMS.into());
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
            let members = match name.as_str() {
                "followers" => follows::followers_page(&state.db, actor.id, n).await?,
                "following" => follows::following_page(&state.db, actor.id, n).await?,
                _ => Vec::new(),
            };
            let ordered_items: Vec<Value> = members.into_iter().map(|a| Value::String(a.ap_id)).collect();
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
