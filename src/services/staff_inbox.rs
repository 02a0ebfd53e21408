//! The staff inbox: one *conversation* (a `conversations` row) per inbound reply or mention
//! addressed to one of our accounts. Recording the rows when a remote note is stored or an
//! orphan joins a thread, and listing them (`GET /api/v1/conversations`) in a fixed number of
//! batched queries (three per page), never one per row. A staff answer marks them answered
//! (`services::posts`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

pub use crate::db::queries::conversations::AnsweredFilter;
use crate::{
    db::{
        entities::{
            actors,
            conversations::{self, ConversationKind},
            posts,
        },
        queries::{self, posts::MentionRow},
    },
    error::AppResult,
    services::remote_notes::Lookups,
};

/// Most conversations per inbox page.
pub const MAX_CONVERSATIONS_PAGE: u64 = 100;

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
#[tracing::instrument(skip_all, fields(?filter, ?actor_id, ?before, limit))]
pub async fn conversations(
    db: &DatabaseConnection,
    filter: AnsweredFilter,
    actor_id: Option<i64>,
    before: Option<i64>,
    limit: u64,
) -> AppResult<(Vec<Conversation>, Option<i64>)> {
    let limit = limit.clamp(1, MAX_CONVERSATIONS_PAGE);
    let rows = queries::conversations::page(db, filter, actor_id, before, limit.saturating_add(1)).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)).collect();
    let mut post_ids: Vec<i64> =
        rows.iter().flat_map(|r| [Some(r.post_id), Some(r.thread_root_id), r.answer_post_id]).flatten().collect();
    post_ids.sort_unstable();
    post_ids.dedup();
    let posts: HashMap<i64, posts::Model> =
        queries::threads::posts_by_ids(db, &post_ids).await?.into_iter().map(|p| (p.id, p)).collect();
    let mut actor_ids: Vec<i64> = rows.iter().map(|r| r.actor_id).chain(posts.values().map(|p| p.actor_id)).collect();
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let actors: HashMap<i64, actors::Model> =
        queries::threads::actors_by_ids(db, &actor_ids).await?.into_iter().map(|a| (a.id, a)).collect();
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

/// The staff-inbox rows of a post (tests, the API).
pub async fn conversations_of_post(db: &DatabaseConnection, post_id: i64) -> AppResult<Vec<conversations::Model>> {
    Ok(queries::conversations::of_post(db, post_id).await?)
}

/// Who a re-linked orphan and its subtree now reply to: the local authors of the new parent
/// and of the thread's root (our accounts, not the instance actor).
pub(crate) struct Addressed {
    /// The authors an orphan answers directly (parent and root).
    orphan: Vec<i64>,
    /// The root's author, whom the orphan's own answers reach through the thread.
    subtree: Vec<i64>,
}

impl Addressed {
    pub(crate) async fn under(db: &impl ConnectionTrait, parent: &posts::Model) -> Result<Self, DbErr> {
        let mut lookups = Lookups::default();
        let (parent_author, root_author) = local_authors_above(db, parent, &mut lookups).await?;
        let mut orphan = Vec::new();
        for actor_id in [parent_author, root_author].into_iter().flatten() {
            if !orphan.contains(&actor_id) && lookups.actor(db, actor_id).await?.is_some_and(|a| has_inbox(&a)) {
                orphan.push(actor_id);
            }
        }
        let subtree = root_author.filter(|id| orphan.contains(id)).into_iter().collect();
        Ok(Self { orphan, subtree })
    }

    /// Staff-inbox rows for `orphan` and the remote posts of its subtree, as if they
    /// had arrived in order (kept as they are where they exist, as mentions say). Called
    /// before the subtree moves to `root`.
    pub(crate) async fn record(
        &self,
        db: &impl ConnectionTrait,
        orphan: &posts::Model,
        root: i64,
    ) -> Result<(), DbErr> {
        if self.orphan.is_empty() {
            return Ok(());
        }
        let row = |actor_id, post_id, received_at| {
            queries::conversations::new_row(actor_id, post_id, ConversationKind::Reply, root, received_at)
        };
        let mut rows: Vec<_> = self.orphan.iter().map(|actor| row(*actor, orphan.id, orphan.created_at)).collect();
        if !self.subtree.is_empty() {
            let below = queries::threads::remote_below(db, orphan.id).await?;
            for (id, created_at) in below {
                rows.extend(self.subtree.iter().map(|actor| row(*actor, id, created_at)));
            }
        }
        // A subtree can be large: bounded statements (7 values a row).
        const ROWS_PER_INSERT: usize = 500;
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
            queries::conversations::insert_new(db, std::mem::replace(&mut rows, rest)).await?;
        }
        Ok(())
    }
}

/// The staff-inbox rows of a stored note: one per local actor it replies to (the
/// parent's or the thread root's local author) or mentions. The instance actor has no inbox.
pub(crate) async fn rows_for(
    db: &impl ConnectionTrait,
    post: &posts::Model,
    parent: Option<&posts::Model>,
    mentions: &[MentionRow],
    now: DateTime<Utc>,
    lookups: &mut Lookups,
) -> Result<Vec<conversations::ActiveModel>, DbErr> {
    let mut addressed: Vec<(i64, ConversationKind)> = Vec::new();
    if let Some(parent) = parent {
        let (parent_author, root_author) = local_authors_above(db, parent, lookups).await?;
        for actor_id in [parent_author, root_author].into_iter().flatten() {
            if !addressed.iter().any(|(id, _)| *id == actor_id) {
                addressed.push((actor_id, ConversationKind::Reply));
            }
        }
    }
    for MentionRow { actor_id, .. } in mentions {
        if !addressed.iter().any(|(id, _)| id == actor_id) {
            addressed.push((*actor_id, ConversationKind::Mention));
        }
    }
    let root = post.thread_root_id.unwrap_or(post.id);
    let mut rows = Vec::with_capacity(addressed.len());
    for (actor_id, kind) in addressed {
        if lookups.actor(db, actor_id).await?.is_some_and(|a| has_inbox(&a)) {
            rows.push(queries::conversations::new_row(actor_id, post.id, kind, root, now));
        }
    }
    Ok(rows)
}

/// The authors of `parent` and of its thread's root, each when that post is one of ours: the
/// accounts a reply under `parent` answers.
async fn local_authors_above(
    db: &impl ConnectionTrait,
    parent: &posts::Model,
    lookups: &mut Lookups,
) -> Result<(Option<i64>, Option<i64>), DbErr> {
    let root = match parent.thread_root_id {
        Some(root_id) => lookups.post_by_id(db, root_id).await?,
        None => Some(parent.clone()),
    };
    let local_author = |post: Option<&posts::Model>| post.filter(|p| p.local).map(|p| p.actor_id);
    Ok((local_author(Some(parent)), local_author(root.as_ref())))
}

/// Whether `actor` has a staff inbox: one of our accounts, not the instance actor.
fn has_inbox(actor: &actors::Model) -> bool {
    actor.local && actor.kind != crate::domain::ActorKind::Instance
}
