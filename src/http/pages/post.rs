//! A post's page, served to browsers at the post's id: the author, the content warning
//! (a `<details>`: no script needed), the text, the images with their alt text.

use askama::Template;
use axum::{http::StatusCode, response::Response};

use crate::{
    error::{AppError, AppResult},
    http::pages::{error_page, profile::AccountCard, render as render_page},
    services::{
        instance,
        posts::{Lookup, PostDetails},
    },
    state::AppState,
    urls::Urls,
};

/// An image under a post.
pub struct MediaView {
    pub url: String,
    pub alt: String,
}

/// A post in a list (profile, tag page): `frontend/templates/_posts.html`.
pub struct PostCard {
    pub url: String,
    pub author: AccountCard,
    /// Sanitized when stored.
    pub content_html: String,
    pub content_warning: Option<String>,
    pub published_iso: String,
    pub published_label: String,
    pub media: Vec<MediaView>,
}

impl PostCard {
    /// From a post with its author and parts.
    pub fn new(d: &PostDetails, urls: &Urls) -> Self {
        let published = d.post.published_at.unwrap_or(d.post.created_at);
        Self {
            url: d.post.ap_id.clone(),
            author: AccountCard::new(&d.author, urls),
            content_html: d.post.content_html.clone(),
            content_warning: d.post.summary.clone(),
            published_iso: published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            published_label: published.format("%-d %B %Y, %H:%M UTC").to_string(),
            media: media_views(d, urls),
        }
    }
}

fn media_views(d: &PostDetails, urls: &Urls) -> Vec<MediaView> {
    d.parts.media.iter().map(|m| MediaView { url: urls.media(&m.file_name), alt: m.alt_text.clone() }).collect()
}

#[derive(Template)]
#[template(path = "post.html")]
struct PostPage {
    instance_name: String,
    card: AccountCard,
    post_url: String,
    /// Sanitized when stored (`markdown::render`), so shown as is.
    content_html: String,
    content_warning: Option<String>,
    published_iso: String,
    published_label: String,
    edited_label: Option<String>,
    visibility_label: &'static str,
    media: Vec<MediaView>,
    /// A short plain-text excerpt for the page title.
    excerpt: String,
}

fn excerpt(d: &PostDetails) -> String {
    let source = d.post.summary.as_deref().unwrap_or(&d.post.content_source);
    let flat: String = source.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", flat.get(..cut).unwrap_or_default()),
        None => flat,
    }
}

async fn page(state: &AppState, d: &PostDetails) -> AppResult<PostPage> {
    let published = d.post.published_at.unwrap_or(d.post.created_at);
    Ok(PostPage {
        instance_name: instance::name(&state.db).await?,
        card: AccountCard::new(&d.author, &state.urls),
        post_url: d.post.ap_id.clone(),
        content_html: d.post.content_html.clone(),
        content_warning: d.post.summary.clone(),
        published_iso: published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        published_label: published.format("%-d %B %Y, %H:%M UTC").to_string(),
        edited_label: d.post.edited_at.map(|at| at.format("%-d %B %Y, %H:%M UTC").to_string()),
        visibility_label: match d.visibility() {
            crate::domain::Visibility::Public => "Public",
            crate::domain::Visibility::Unlisted => "Unlisted",
            crate::domain::Visibility::Followers => "Followers only",
        },
        media: media_views(d, &state.urls),
        excerpt: excerpt(d),
    })
}

/// The page for what `services::posts::public` found: the post, the 410 page, or the 404.
pub async fn render(state: &AppState, found: AppResult<Lookup>) -> Response {
    match found {
        Ok(Lookup::Visible(d)) => match page(state, &d).await {
            Ok(page) => render_page(StatusCode::OK, &page),
            Err(e) => error_page(&e),
        },
        Ok(Lookup::Gone { .. }) => error_page(&AppError::gone("This post was deleted by its author.")),
        Err(e) => error_page(&e),
    }
}
