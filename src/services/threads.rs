//! Reading threads (reply trees): a post's whole thread for its public page, loaded in one
//! batched query per level (ADR 0008), never one per row. The staff inbox is
//! `services::staff_inbox`.

use std::collections::HashMap;

use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::{actors, posts},
        queries::{self, threads as q},
    },
    error::AppResult,
};

/// Direct replies per thread page; deeper replies come with their branch.
pub const THREAD_PAGE: u64 = 100;
/// Most replies one thread page shows, all levels together.
pub const MAX_THREAD_NODES: usize = 1_000;
/// Deepest level a thread page shows.
pub const MAX_THREAD_DEPTH: usize = 64;

/// A post in a thread, with its author and its own replies.
#[derive(Clone, Debug)]
pub struct ThreadNode {
    pub post: posts::Model,
    pub author: actors::Model,
    pub replies: Vec<ThreadNode>,
}

/// One page of a post's thread: direct replies `page` (from 1), each with its whole branch.
#[derive(Clone, Debug)]
pub struct Thread {
    pub replies: Vec<ThreadNode>,
    /// How many direct replies there are in all.
    pub total_direct: u64,
    /// Whether a later page exists.
    pub has_more: bool,
    /// Whether branches were cut (deeper than [`MAX_THREAD_DEPTH`] or past [`MAX_THREAD_NODES`]).
    pub truncated: bool,
}

/// The replies under `root` (a local post), nested: one query for the page of direct
/// replies, then one per level for their branches, one for the authors.
pub async fn thread(db: &DatabaseConnection, root: &posts::Model, page: u64) -> AppResult<Thread> {
    let offset = page.saturating_sub(1).saturating_mul(THREAD_PAGE);
    let total_direct = q::count_top_replies(db, root.id).await?;
    let mut levels: Vec<Vec<posts::Model>> = vec![q::top_replies(db, root.id, offset, THREAD_PAGE).await?];
    let mut count = levels.iter().map(Vec::len).sum::<usize>();
    let mut truncated = false;
    while let Some(last) = levels.last().filter(|l| !l.is_empty()) {
        if levels.len() >= MAX_THREAD_DEPTH || count >= MAX_THREAD_NODES {
            truncated = true;
            break;
        }
        let parents: Vec<i64> = last.iter().map(|p| p.id).collect();
        let room = (MAX_THREAD_NODES - count) as u64;
        let next = q::replies_to(db, &parents, room.saturating_add(1)).await?;
        if next.len() as u64 > room {
            truncated = true;
        }
        let next: Vec<_> = next.into_iter().take(MAX_THREAD_NODES - count).collect();
        count += next.len();
        levels.push(next);
    }
    let mut actor_ids: Vec<i64> = levels.iter().flatten().map(|p| p.actor_id).collect();
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let authors: HashMap<i64, actors::Model> =
        queries::threads::actors_by_ids(db, &actor_ids).await?.into_iter().map(|a| (a.id, a)).collect();

    // Build bottom-up: each level's nodes collect the children built from the level below.
    let mut below: HashMap<i64, Vec<ThreadNode>> = HashMap::new();
    let mut top = Vec::new();
    for (index, level) in levels.into_iter().enumerate().rev() {
        let mut here: HashMap<i64, Vec<ThreadNode>> = HashMap::new();
        for post in level {
            let Some(author) = authors.get(&post.actor_id).cloned() else { continue };
            let replies = below.remove(&post.id).unwrap_or_default();
            let parent = post.in_reply_to_post_id.unwrap_or(root.id);
            let node = ThreadNode { post, author, replies };
            if index == 0 {
                top.push(node);
            } else {
                here.entry(parent).or_default().push(node);
            }
        }
        below = here;
    }
    let has_more = offset.saturating_add(THREAD_PAGE) < total_direct;
    Ok(Thread { replies: top, total_direct, has_more, truncated })
}
