//! Links between notes in a thread (reply tree): orphans (notes stored before their parent)
//! moved under the parent when it arrives, the parent fetches of orphans scheduled, claimed
//! and abandoned for `federation::remote_notes`' ancestor walk, and the reads that walk and
//! the replies collection need. Threading is described in
//! `docs/adr/0008-remote-notes-and-threads.md`.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

pub use crate::db::queries::threads::Reschedule;
use crate::{
    db::{entities::posts, queries},
    error::AppResult,
    services::staff_inbox::Addressed,
};

/// Moves the orphans that answer `parent` (a stored post) under it, in a write transaction
/// of their own; returns how many moved. For an orphan whose parent was stored by another
/// worker at the same time: on PostgreSQL each transaction read before the other committed,
/// so the parent's store could not see the orphan to re-link it.
#[tracing::instrument(skip_all, fields(post = parent.id, ap_id = %parent.ap_id))]
pub async fn link_orphans_of(db: &DatabaseConnection, parent: &posts::Model) -> AppResult<usize> {
    let txn = crate::db::begin_write(db).await?;
    let moved = relink_orphans(&txn, parent).await?;
    txn.commit().await?;
    if moved > 0 {
        tracing::info!(post = parent.id, moved, "orphans linked under a post stored meanwhile");
    }
    Ok(moved)
}

/// Orphans that answer `post` move under it, with their whole subtree: two `UPDATE`s per
/// orphan. An orphan that roots the subtree `post` itself is in (a cycle) stays put.
pub(crate) async fn relink_orphans(db: &impl ConnectionTrait, post: &posts::Model) -> Result<usize, DbErr> {
    let orphans = queries::posts::orphans_of(db, post).await?;
    let root = post.thread_root_id.unwrap_or(post.id);
    let mut moved = 0;
    let mut addressed: Option<Addressed> = None;
    for orphan in orphans {
        if orphan.id == root {
            tracing::warn!(post = post.id, orphan = orphan.id, "reply cycle: not re-linked");
            continue;
        }
        let addressed = match &mut addressed {
            Some(found) => found,
            None => addressed.insert(Addressed::under(db, post).await?),
        };
        addressed.record(db, &orphan, root).await?;
        let depth = post.depth.saturating_add(1);
        queries::threads::link_orphan(db, orphan.id, post.id, root, depth).await?;
        queries::conversations::move_thread(db, orphan.id, root).await?;
        moved += 1;
    }
    Ok(moved)
}

/// An orphan note whose parent should be fetched, when the continuation is due.
#[tracing::instrument(skip_all, fields(post = post_id, %at, ?why))]
pub async fn schedule_parent_fetch(
    db: &DatabaseConnection,
    post_id: i64,
    at: DateTime<Utc>,
    why: Reschedule,
) -> AppResult<()> {
    let writer = crate::db::writer(db).await?;
    queries::threads::schedule_parent_fetch(writer.connection(), post_id, at, why).await?;
    Ok(())
}

/// Gives up fetching an orphan's parent (gone, cyclic, too deep, too many attempts): the
/// note stays a root of what we have.
#[tracing::instrument(skip_all, fields(post = post_id))]
pub async fn abandon_parent_fetch(db: &DatabaseConnection, post_id: i64) -> AppResult<()> {
    let writer = crate::db::writer(db).await?;
    queries::threads::end_parent_fetch(writer.connection(), post_id).await?;
    Ok(())
}

/// Claims up to `limit` orphans whose parent fetch is due, pushing their next time to
/// `lease_until` (a conditional update per row: one worker wins each).
pub async fn claim_due_parent_fetches(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<posts::Model>> {
    let due = queries::threads::due_parent_fetches(db, now, limit).await?;
    let mut claimed = Vec::with_capacity(due.len());
    let writer = crate::db::writer(db).await?;
    for post in due {
        if queries::threads::claim_parent_fetch(writer.connection(), &post, lease_until).await? {
            claimed.push(post);
        }
    }
    Ok(claimed)
}

/// How deep the subtree under `post_id` goes (0 when it has no stored descendants): how many
/// levels were already walked below an orphan.
pub async fn subtree_depth(db: &DatabaseConnection, post_id: i64) -> AppResult<i32> {
    Ok(queries::threads::subtree_depth(db, post_id).await?)
}

/// Replies collection of a post: how many world-readable replies it has, and one page of
/// their ids, oldest first.
pub async fn replies_page(
    db: &DatabaseConnection,
    post_id: i64,
    offset: u64,
    limit: u64,
) -> AppResult<(u64, Vec<String>)> {
    Ok(queries::threads::replies_page(db, post_id, offset, limit).await?)
}
