//! `GET /users/{username}/{outbox|followers|following|featured}`: paged ordered collections.
//!
//! The summary document gives the size and the first page; `?page=N` gives a page. Nothing
//! fills these yet: follows and posts arrive with the publishing work, and will page here.

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
    services::accounts,
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
    let items: Vec<Value> = Vec::new();
    let total = items.len() as u64;
    let page_url = |n: u64| Url::parse(&format!("{id}?page={n}")).map_err(AppError::internal);
    let context = Value::String(ACTIVITYSTREAMS.into());
    match query.page {
        None => Ok(ActivityJson(OrderedCollection {
            context,
            id: id.clone(),
            kind: Default::default(),
            total_items: total,
            first: page_url(1)?,
            last: page_url(1)?,
        })
        .into_response()),
        Some(page) => {
            let n: u64 = page
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| AppError::bad_request("page must be a number from 1"))?;
            let ordered_items = if n == 1 { items } else { Vec::new() };
            Ok(ActivityJson(OrderedCollectionPage {
                context,
                id: page_url(n)?,
                kind: Default::default(),
                part_of: id.clone(),
                total_items: total,
                next: None,
                prev: if n > 1 { Some(page_url(n - 1)?) } else { None },
                ordered_items,
            })
            .into_response())
        }
    }
}
