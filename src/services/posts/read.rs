//! Reading posts: one by id or URL, with its author and parts; what a post's public address
//! shows; an actor's listed posts, page by page; the newest public posts with a hashtag.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::{actors, posts},
        queries::{self, posts::Parts},
    },
    domain::Visibility,
    error::{AppError, AppResult},
};

/// Posts per outbox page.
pub const PAGE_SIZE: u64 = 20;

/// A post with its author and what it refers to: everything needed to show or send it.
#[derive(Clone, Debug)]
pub struct PostDetails {
    pub post: posts::Model,
    pub author: actors::Model,
    pub parts: Parts,
}

impl PostDetails {
    /// The post's visibility (stored values are ours; an unknown one is treated as the strictest).
    pub fn visibility(&self) -> Visibility {
        self.post.visibility
    }
}

/// What a public URL shows.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// A readable post.
    Visible(Box<PostDetails>),
    /// Deleted: answer 410 with a Tombstone.
    Gone {
        /// The post's id.
        ap_id: String,
        /// When it was deleted.
        deleted_at: DateTime<Utc>,
    },
}

/// A local post by row id, whatever its state.
pub async fn find(db: &DatabaseConnection, post_id: i64) -> AppResult<Option<posts::Model>> {
    Ok(queries::posts::find(db, post_id).await?.filter(|p| p.local))
}

/// A local post by its URL (its id).
pub async fn find_by_url(db: &DatabaseConnection, url: &str) -> AppResult<Option<posts::Model>> {
    Ok(queries::posts::find_by_ap_id(db, url).await?.filter(|p| p.local))
}

/// A post with its author and parts, whatever its state (the federation wing sends deletes too).
pub async fn details(db: &DatabaseConnection, post_id: i64) -> AppResult<Option<PostDetails>> {
    let Some(post) = queries::posts::find(db, post_id).await? else { return Ok(None) };
    let Some(author) = queries::actors::find(db, post.actor_id).await? else { return Ok(None) };
    let parts = queries::posts::parts_of(db, &[post.id]).await?.remove(&post.id).unwrap_or_default();
    Ok(Some(PostDetails { post, author, parts }))
}

/// What `GET /users/{username}/posts/{id}` shows to anyone: a published public or unlisted
/// post, or its tombstone. Anything else (missing, private, scheduled) is the same 404.
pub async fn public(db: &DatabaseConnection, username: &str, post_id: i64) -> AppResult<Lookup> {
    let not_found = || AppError::not_found("There is no post at this address.");
    let details = details(db, post_id).await?.ok_or_else(not_found)?;
    let readable = details.post.local
        && details.author.local
        && details.author.username.eq_ignore_ascii_case(username)
        && details.post.published_at.is_some()
        && details.visibility().is_world_readable();
    if !readable {
        return Err(not_found());
    }
    if let Some(deleted_at) = details.post.deleted_at {
        return Ok(Lookup::Gone { ap_id: details.post.ap_id, deleted_at });
    }
    Ok(Lookup::Visible(Box::new(details)))
}

/// Visibilities listed in an actor's outbox: whatever anyone may read.
const LISTED: &[Visibility] = &[Visibility::Public, Visibility::Unlisted];

/// How many posts an actor's outbox lists.
pub async fn count_listed(db: &DatabaseConnection, actor_id: i64) -> AppResult<u64> {
    Ok(queries::posts::count_listed(db, actor_id, LISTED).await?)
}

/// Page `page` (from 1) of an actor's readable posts, newest first.
pub async fn listed_page(db: &DatabaseConnection, author: &actors::Model, page: u64) -> AppResult<Vec<PostDetails>> {
    let offset = page.saturating_sub(1).saturating_mul(PAGE_SIZE);
    let rows = queries::posts::page_of(db, author.id, LISTED, offset, PAGE_SIZE).await?;
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut parts = queries::posts::parts_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|post| {
            let parts = parts.remove(&post.id).unwrap_or_default();
            PostDetails { post, author: author.clone(), parts }
        })
        .collect())
}

/// The newest public posts with a hashtag (given without `#`, any case): the tag page.
pub async fn tagged(db: &DatabaseConnection, tag: &str, limit: u64) -> AppResult<Vec<PostDetails>> {
    let rows = queries::posts::tagged_public(db, &tag.to_lowercase(), limit).await?;
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut parts = queries::posts::parts_of(db, &ids).await?;
    let mut authors: Vec<actors::Model> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for post in rows {
        let author = match authors.iter().find(|a| a.id == post.actor_id) {
            Some(a) => a.clone(),
            None => match queries::actors::find(db, post.actor_id).await? {
                Some(a) => {
                    authors.push(a.clone());
                    a
                }
                None => continue,
            },
        };
        let parts = parts.remove(&post.id).unwrap_or_default();
        out.push(PostDetails { post, author, parts });
    }
    Ok(out)
}
