//! Reading conversations: the staff inbox (`GET /api/v1/conversations`) and a post's whole
//! thread for its public page. Both load in a fixed number of batched queries — the inbox in
//! three per page, the thread in one per level (ADR 0008) — never one per row.

use std::collections::HashMap;

use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::{actors, conversations, posts},
        queries::{
            self,
            threads::{self as q, AnsweredFilter},
        },
    },
    error::AppResult,
};

/// Most conversations per inbox page.
pub const MAX_CONVERSATIONS_PAGE: u64 = 100;
/// Direct replies per thread page; deeper replies come with their branch.
pub const THREAD_PAGE: u64 = 100;
/// Most replies one thread page shows, all levels together.
pub const MAX_THREAD_NODES: usize = 1_000;
/// Deepest level a thread page shows.
pub const MAX_THREAD_DEPTH: usize = 64;

/// One row of the staff inbox, with what it refers to.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub row: conversations::Model,
    /// The local actor it is addressed to.
    pub actor: actors::Model,
    /// The inbound post and its (remote) author.
    pub post: posts::Model,
    pub author: actors::Model,
    /// The thread's root post, when it is still there.
    pub root: Option<posts::Model>,
    /// The staff post that answered it.
    pub answer: Option<posts::Model>,
}

impl Conversation {
    /// Time from arrival to the first staff answer.
    pub fn time_to_first_response(&self) -> Option<chrono::Duration> {
        self.row.answered_at.map(|at| at - self.row.received_at)
    }
}

/// A page of the staff inbox, newest first, and the cursor of the next page.
pub async fn conversations(
    db: &DatabaseConnection,
    filter: AnsweredFilter,
    actor_id: Option<i64>,
    before: Option<i64>,
    limit: u64,
) -> AppResult<(Vec<Conversation>, Option<i64>)> {
    let limit = limit.clamp(1, MAX_CONVERSATIONS_PAGE);
    let rows = q::conversations_page(db, filter, actor_id, before, limit.saturating_add(1)).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)).collect();
    let mut post_ids: Vec<i64> =
        rows.iter().flat_map(|r| [Some(r.post_id), Some(r.thread_root_id), r.answer_post_id]).flatten().collect();
    post_ids.sort_unstable();
    post_ids.dedup();
    let posts: HashMap<i64, posts::Model> =
        q::posts_by_ids(db, &post_ids).await?.into_iter().map(|p| (p.id, p)).collect();
    let mut actor_ids: Vec<i64> = rows.iter().map(|r| r.actor_id).chain(posts.values().map(|p| p.actor_id)).collect();
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let actors: HashMap<i64, actors::Model> =
        q::actors_by_ids(db, &actor_ids).await?.into_iter().map(|a| (a.id, a)).collect();
    let next = if more { rows.last().map(|r| r.id) } else { None };
    let items = rows
        .into_iter()
        .filter_map(|row| {
            let post = posts.get(&row.post_id)?.clone();
            Some(Conversation {
                actor: actors.get(&row.actor_id)?.clone(),
                author: actors.get(&post.actor_id)?.clone(),
                root: posts.get(&row.thread_root_id).cloned(),
                answer: row.answer_post_id.and_then(|id| posts.get(&id)).cloned(),
                post,
                row,
            })
        })
        .collect();
    Ok((items, next))
}

/// A post in a thread, with its author and its own replies.
#[derive(Clone, Debug)]
pub struct ThreadNode {
    pub post: posts::Model,
    pub author: actors::Model,
    pub replies: Vec<ThreadNode>,
}

/// One page of a post's conversation: direct replies `page` (from 1), each with its whole branch.
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
