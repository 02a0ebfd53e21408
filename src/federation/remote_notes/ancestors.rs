//! Fetching an orphan's missing ancestors upward, on a budget.
//!
//! The walk is a loop, never recursion (F5): each step fetches one parent, stores it (which
//! re-links the orphan below it), and moves up. It stops when the chain joins a note we
//! have, when a note has no parent, at a cycle, at [`MAX_CHAIN_DEPTH`] levels, on a
//! permanent error, or when the [`FetchBudget`] of the activity is spent. In that last case
//! the top orphan is marked (`parent_fetch_after`) and the continuation worker
//! (`super::continuations`) carries on later with a fresh budget of its own, so a long
//! chain resolves over several bounded units of work instead of one unbounded one.

use std::collections::HashSet;

use chrono::Utc;
use url::Url;

use super::{fetch_note, incoming, resolve_error};
use crate::{
    db::entities::posts,
    federation::{
        activities::HandleError,
        context::FederationContext,
        fetch::{FetchBudget, FetchError},
        resolve::{self, ResolveError},
    },
    services::{
        remote_notes::{self, Stored},
        thread_links::{self, Reschedule},
    },
};

/// Most levels of ancestors fetched below a thread's top, over all continuations: a chain
/// deeper than this is stored as far as it got and left there.
pub const MAX_CHAIN_DEPTH: i32 = 100;
/// Continuation attempts after temporary failures before an orphan is left as it is.
pub const MAX_PARENT_ATTEMPTS: i32 = 5;

/// Fetches the missing ancestors of `start` upward, iteratively, on `budget`.
#[tracing::instrument(skip_all, fields(post = start.id, ap_id = %start.ap_id))]
pub async fn walk_ancestors(
    ctx: &FederationContext,
    start: posts::Model,
    budget: &mut FetchBudget,
) -> Result<(), HandleError> {
    if start.in_reply_to_post_id.is_some() || start.in_reply_to_ap_id.is_none() {
        // Threaded already, or a thread's top: nothing to walk (the common case).
        return Ok(());
    }
    let mut current = start;
    let mut walked = thread_links::subtree_depth(&ctx.db, current.id).await?;
    let mut seen: HashSet<String> = HashSet::from([current.ap_id.clone()]);
    loop {
        if current.in_reply_to_post_id.is_some() {
            return Ok(());
        }
        let Some(parent_id) = current.in_reply_to_ap_id.clone() else { return Ok(()) };
        if seen.contains(&parent_id) {
            tracing::info!(post = current.id, "reply chain loops; stopped");
            return give_up(ctx, &current).await;
        }
        if walked >= MAX_CHAIN_DEPTH {
            tracing::info!(post = current.id, walked, "reply chain deeper than the bound; stopped");
            return give_up(ctx, &current).await;
        }
        if let Some(parent) = remote_notes::find_post(&ctx.db, &parent_id).await? {
            // Stored after this orphan was: link it instead of fetching what we have.
            return parent_stored_meanwhile(ctx, &current, &parent).await;
        }
        let Ok(parent_url) = Url::parse(&parent_id) else { return give_up(ctx, &current).await };
        if ctx.is_local(&parent_url) {
            // One of ours that we do not have (deleted, or never existed).
            return give_up(ctx, &current).await;
        }
        if budget.remaining() == 0 {
            return continue_later(ctx, &current).await;
        }
        let doc = match fetch_note(ctx, &parent_url, budget).await {
            Ok(doc) => doc,
            Err(HandleError::Temporary(reason)) => {
                tracing::debug!(post = current.id, %reason, "parent fetch failed for now");
                return retry_later(ctx, &current).await;
            }
            Err(HandleError::Rejected(reason)) => {
                tracing::info!(post = current.id, %reason, "parent cannot be fetched; stopped");
                return give_up(ctx, &current).await;
            }
        };
        let author = match resolve::actor_budgeted(ctx, &doc.attributed_to, budget).await {
            Ok(author) => author,
            Err(ResolveError::Fetch(FetchError::BudgetSpent(_))) => return continue_later(ctx, &current).await,
            Err(e) => match resolve_error(e) {
                HandleError::Temporary(_) => return retry_later(ctx, &current).await,
                HandleError::Rejected(_) => return give_up(ctx, &current).await,
            },
        };
        if author.deleted_at.is_some() {
            return give_up(ctx, &current).await;
        }
        seen.insert(parent_id);
        let note = incoming(ctx, doc, author.id).await?;
        let parent = match remote_notes::store_note(&ctx.db, note).await? {
            Stored::Created(post) => post,
            Stored::Known(parent) => return parent_stored_meanwhile(ctx, &current, &parent).await,
        };
        walked = walked.saturating_add(1);
        current = parent;
    }
}

/// The parent of the orphan `current` was stored by another worker while `current` was: on
/// PostgreSQL neither transaction saw the other's row, so storing the parent did not link
/// `current` under it. Links it now, and ends the walk (nothing is left to fetch; an orphan
/// that would close a cycle stays unlinked, as when it arrives in order).
async fn parent_stored_meanwhile(
    ctx: &FederationContext,
    current: &posts::Model,
    parent: &posts::Model,
) -> Result<(), HandleError> {
    thread_links::link_orphans_of(&ctx.db, parent).await?;
    give_up(ctx, current).await
}

async fn give_up(ctx: &FederationContext, post: &posts::Model) -> Result<(), HandleError> {
    thread_links::abandon_parent_fetch(&ctx.db, post.id).await?;
    Ok(())
}

/// The budget is spent: a continuation picks this orphan up at once, on a budget of its own.
async fn continue_later(ctx: &FederationContext, post: &posts::Model) -> Result<(), HandleError> {
    tracing::debug!(post = post.id, "fetch budget spent; the chain continues in the background");
    thread_links::schedule_parent_fetch(&ctx.db, post.id, Utc::now(), Reschedule::Continue).await?;
    Ok(())
}

/// A temporary failure: try again later, with growing delays, a few times.
async fn retry_later(ctx: &FederationContext, post: &posts::Model) -> Result<(), HandleError> {
    if post.parent_fetch_attempts >= MAX_PARENT_ATTEMPTS {
        return give_up(ctx, post).await;
    }
    let delay = chrono::Duration::seconds(30_i64.saturating_mul(1 << post.parent_fetch_attempts.clamp(0, 10)));
    thread_links::schedule_parent_fetch(&ctx.db, post.id, Utc::now() + delay, Reschedule::Retry).await?;
    Ok(())
}
