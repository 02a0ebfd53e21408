//! `GET /tags/{tag}`: the newest public posts of this instance with a hashtag (where our
//! posts' hashtag links lead).

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};

use crate::{
    error::{AppError, AppResult},
    http::pages::{error_page, post::PostCard, render},
    services::{instance, posts},
    state::AppState,
};

/// Posts shown on a tag page.
const SHOWN: u64 = 40;

#[derive(Template)]
#[template(path = "tag.html")]
struct TagPage {
    instance_name: String,
    tag: String,
    posts: Vec<PostCard>,
}

async fn page(state: &AppState, tag: &str) -> AppResult<TagPage> {
    let tag = tag.strip_prefix('#').unwrap_or(tag).to_lowercase();
    let valid = !tag.is_empty() && tag.chars().count() <= 100 && tag.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(AppError::not_found("There is no such hashtag."));
    }
    let found = posts::tagged(&state.db, &tag, SHOWN).await?;
    Ok(TagPage {
        instance_name: instance::name(&state.db).await?,
        posts: found.iter().map(|d| PostCard::new(d, &state.urls)).collect(),
        tag,
    })
}

pub(super) async fn tag(State(state): State<AppState>, Path(tag): Path<String>) -> Response {
    match page(&state, &tag).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&e),
    }
}
