//! A post's page, served to browsers at the post's id: the author, the content warning
//! (a `<details>`: no script needed), the text, the images with their alt text, like and
//! boost counts, and the whole thread under it, nested (`services::threads`: one
//! query per level), paginated by direct replies (`?page=N`).
//!
//! Remote replies: their HTML was sanitized on ingest and is shown as is; every plain-text
//! field (names, handles, warnings, alt text) is escaped by the template; remote media is
//! never embedded (no `img` pointing at another server) — it is a link out.

use askama::Template;
use axum::{
    body::Bytes,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    db::{
        entities::{actors, posts},
        queries,
    },
    error::{AppError, AppResult},
    http::pages::{cache::Stamp, error_page, profile::AccountCard},
    services::{
        instance,
        posts::{Lookup, PostDetails},
        threads::{self, Thread, ThreadNode},
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
    likes: i32,
    announces: i32,
    /// The thread, flattened in document order (see [`ReplyRow`]).
    replies: Vec<ReplyRow>,
    total_direct: u64,
    page: u64,
    prev_page: Option<String>,
    next_page: Option<String>,
    truncated: bool,
}

/// A remote attachment: linked to, never embedded.
pub struct LinkOut {
    pub url: String,
    pub label: String,
}

/// One reply of the thread, in document order. The nesting is markup we write ourselves
/// (`<ol>`/`</li>` only): `open_children` opens the reply's own list; after a reply without
/// children, its `</li>` and `close_count` more `</ol></li>` end the lists it closes.
pub struct ReplyRow {
    pub ap_id: String,
    pub page_url: String,
    pub display_name: String,
    pub handle: String,
    /// The author's home: their profile on their server (ours for local authors).
    pub home_url: String,
    pub local_author: bool,
    pub deleted: bool,
    /// Sanitized when stored (ours by `markdown::render`, remote on ingest).
    pub content_html: String,
    pub content_warning: Option<String>,
    pub published_iso: String,
    pub published_label: String,
    pub likes: i32,
    pub announces: i32,
    pub attachments: Vec<LinkOut>,
    pub open_children: bool,
    /// How many enclosing replies end after this one (each `</ol></li>`).
    pub close_count: usize,
}

fn label(at: chrono::DateTime<chrono::Utc>) -> (String, String) {
    (at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), at.format("%-d %B %Y, %H:%M UTC").to_string())
}

fn http_url(raw: &str) -> Option<String> {
    url::Url::parse(raw).ok().filter(|u| matches!(u.scheme(), "http" | "https")).map(String::from)
}

/// Remote attachments as stored on ingest (`[{url, media_type, name}]`), as links.
fn attachments(post: &posts::Model) -> Vec<LinkOut> {
    let Some(raw) = post.attachments.as_deref() else { return Vec::new() };
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(raw) else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| {
            let url = http_url(item.get("url")?.as_str()?)?;
            let name = item.get("name").and_then(|v| v.as_str()).map(str::trim).filter(|n| !n.is_empty());
            let kind = item.get("media_type").and_then(|v| v.as_str()).unwrap_or("attachment");
            Some(LinkOut { url, label: name.map_or_else(|| format!("Attached {kind}"), |n| format!("Attached: {n}")) })
        })
        .take(8)
        .collect()
}

fn reply_row(post: &posts::Model, author: &actors::Model, urls: &Urls) -> ReplyRow {
    let (published_iso, published_label) = label(post.published_at.unwrap_or(post.created_at));
    let (handle, home_url) = if author.local {
        (format!("@{}@{}", author.username, urls.handle_domain()), urls.profile(&author.username))
    } else {
        let home = author.profile_url.as_deref().and_then(http_url).or_else(|| http_url(&author.ap_id));
        (format!("@{}@{}", author.username, author.domain), home.unwrap_or_default())
    };
    let deleted = post.deleted_at.is_some();
    let page_url = if post.local {
        post.ap_id.clone()
    } else {
        post.url.as_deref().and_then(http_url).or_else(|| http_url(&post.ap_id)).unwrap_or_default()
    };
    ReplyRow {
        ap_id: post.ap_id.clone(),
        page_url,
        display_name: if author.display_name.trim().is_empty() {
            author.username.clone()
        } else {
            author.display_name.clone()
        },
        handle,
        home_url,
        local_author: author.local,
        deleted,
        content_html: if deleted { String::new() } else { post.content_html.clone() },
        content_warning: post.summary.clone().filter(|_| !deleted),
        published_iso,
        published_label,
        likes: post.likes_count,
        announces: post.announces_count,
        attachments: if deleted { Vec::new() } else { attachments(post) },
        open_children: false,
        close_count: 0,
    }
}

/// Depth-first, in document order: each reply, then its own replies inside its `<li>`.
fn flatten(nodes: &[ThreadNode], urls: &Urls, out: &mut Vec<ReplyRow>) {
    for node in nodes {
        let mut row = reply_row(&node.post, &node.author, urls);
        row.open_children = !node.replies.is_empty();
        out.push(row);
        if !node.replies.is_empty() {
            flatten(&node.replies, urls, out);
            // The last row written closes this reply's list and item as well.
            if let Some(last) = out.last_mut() {
                last.close_count += 1;
            }
        }
    }
}

/// The rows of a thread page.
fn reply_rows(thread: &Thread, urls: &Urls) -> Vec<ReplyRow> {
    let mut rows = Vec::new();
    flatten(&thread.replies, urls, &mut rows);
    rows
}

fn excerpt(d: &PostDetails) -> String {
    let source = d.post.summary.as_deref().unwrap_or(&d.post.content_source);
    let flat: String = source.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", flat.get(..cut).unwrap_or_default()),
        None => flat,
    }
}

async fn page(state: &AppState, d: &PostDetails, page: u64) -> AppResult<PostPage> {
    let published = d.post.published_at.unwrap_or(d.post.created_at);
    let thread = threads::thread(&state.db, &d.post, page).await?;
    let link = |n: u64| format!("{}?page={n}#replies", d.post.ap_id);
    Ok(PostPage {
        likes: d.post.likes_count,
        announces: d.post.announces_count,
        replies: reply_rows(&thread, &state.urls),
        total_direct: thread.total_direct,
        page,
        prev_page: (page > 1).then(|| link(page - 1)),
        next_page: thread.has_more.then(|| link(page + 1)),
        truncated: thread.truncated,
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
            crate::domain::Visibility::Followers | crate::domain::Visibility::Direct => "Followers only",
        },
        media: media_views(d, &state.urls),
        excerpt: excerpt(d),
    })
}

/// What the page shows depends on, read now (see `cache`): one aggregate over the thread
/// and the instance name, on top of the lookup the caller made.
async fn stamp(state: &AppState, d: &PostDetails) -> AppResult<Stamp> {
    let root_id = d.post.thread_root_id.unwrap_or(d.post.id);
    Ok(Stamp {
        root_updated: d.post.updated_at,
        root_edited: d.post.edited_at,
        root_likes: d.post.likes_count,
        root_announces: d.post.announces_count,
        author_updated: d.author.updated_at,
        instance_name: instance::name(&state.db).await?,
        thread: queries::threads::thread_stamp(&state.db, root_id).await?,
    })
}

/// The page for what `services::posts::public` found: the post, the 410 page, or the 404.
/// `page` is the page of direct replies (from 1). A page whose thread did not change since it
/// was last rendered comes from the cache (`cache`), or as `304` when the browser's
/// `If-None-Match` names it.
pub async fn render(
    state: &AppState,
    found: AppResult<Lookup>,
    page_number: u64,
    if_none_match: Option<&str>,
) -> Response {
    let d = match found {
        Ok(Lookup::Visible(d)) => d,
        Ok(Lookup::Gone { .. }) => return error_page(&AppError::gone("This post was deleted by its author.")),
        Err(e) => return error_page(&e),
    };
    let page_number = page_number.max(1);
    let stamp = match stamp(state, &d).await {
        Ok(stamp) => stamp,
        Err(e) => return error_page(&e),
    };
    let etag = stamp.etag(d.post.id, page_number);
    if if_none_match.is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag)) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let body = match state.pages.get(d.post.id, page_number, &stamp) {
        Some(body) => body,
        None => {
            let rendered = page(state, &d, page_number).await.and_then(|p| p.render().map_err(AppError::internal));
            match rendered {
                Ok(html) => {
                    let body = Bytes::from(html);
                    state.pages.put(d.post.id, page_number, stamp, body.clone());
                    body
                }
                Err(e) => return error_page(&e),
            }
        }
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}
