//! Remote notes in threads: reading a note (embedded or fetched), storing it through
//! `services::conversations`, and fetching missing ancestors upward.
//!
//! The walk is a loop, never recursion (F5): each step fetches one parent, stores it (which
//! re-links the orphan below it), and moves up. It stops when the chain joins a note we
//! have, when a note has no parent, at a cycle, at [`MAX_CHAIN_DEPTH`] levels, on a
//! permanent error, or when the [`FetchBudget`] of the activity is spent. In that last case
//! the top orphan is marked (`parent_fetch_after`) and the continuation worker
//! ([`run_continuations`]) carries on later with a fresh budget of its own, so a long
//! chain resolves over several bounded units of work instead of one unbounded one.

use std::{collections::HashSet, time::Duration};

use chrono::Utc;
use tokio::sync::watch;
use url::Url;

use crate::{
    db::entities::posts,
    error::AppResult,
    federation::{
        activities::{HandleError, local_actor},
        context::FederationContext,
        fetch::{FetchBudget, FetchError},
        identity,
        objects::remote_note::{RemoteNoteDoc, parse_note, storable},
        resolve::{self, ResolveError},
    },
    services::conversations::{self, IncomingNote, Stored},
};

/// Most levels of ancestors fetched below a thread's top, over all continuations: a chain
/// deeper than this is stored as far as it got and left there.
pub const MAX_CHAIN_DEPTH: i32 = 100;
/// Continuation attempts after temporary failures before an orphan is left as it is.
pub const MAX_PARENT_ATTEMPTS: i32 = 5;
/// How often the continuation worker looks for due orphans.
const CONTINUATION_TICK: Duration = Duration::from_millis(500);
/// How long a claimed continuation is held before another worker may take it.
const CONTINUATION_LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Orphans continued per tick.
const CONTINUATION_BATCH: u64 = 10;

/// Fetches the note whose id is `url`, on a budget, and checks it: accepted under its own id
/// (F2) and that id is `url`, it is not ours. Its author is checked by whoever resolves
/// `attributedTo` (always under the same rule: the actor whose id it is).
pub async fn fetch_note(
    ctx: &FederationContext,
    url: &Url,
    budget: &mut FetchBudget,
) -> Result<RemoteNoteDoc, HandleError> {
    let doc = fetch_note_at(ctx, url, budget).await?;
    if doc.ap_id != *url {
        return Err(HandleError::Rejected(format!("{url}: the document there is {}", doc.ap_id)));
    }
    Ok(doc)
}

/// The note a URL leads to (a post's page link that a person gave, say), accepted under its
/// own id (F2), which may differ from `url`.
pub async fn fetch_note_at(
    ctx: &FederationContext,
    url: &Url,
    budget: &mut FetchBudget,
) -> Result<RemoteNoteDoc, HandleError> {
    if ctx.is_local(url) {
        return Err(HandleError::Rejected(format!("{url} is ours")));
    }
    let fetched =
        identity::fetch_object(&ctx.fetcher, url, Some(&ctx.instance_key), budget).await.map_err(fetch_error)?;
    let doc = parse_note(&fetched.json).map_err(|e| HandleError::Rejected(format!("{url}: {e}")))?;
    if doc.ap_id != fetched.id || ctx.is_local(&doc.ap_id) {
        return Err(HandleError::Rejected(format!("{url}: the document's id is not its URL")));
    }
    Ok(doc)
}

fn fetch_error(e: FetchError) -> HandleError {
    match e {
        FetchError::Unreachable { .. } => HandleError::Temporary(e.to_string()),
        FetchError::Status { status, .. } if status.is_server_error() || status.as_u16() == 429 => {
            HandleError::Temporary(e.to_string())
        }
        FetchError::BudgetSpent(_) => HandleError::Temporary(e.to_string()),
        _ => HandleError::Rejected(e.to_string()),
    }
}

fn resolve_error(e: ResolveError) -> HandleError {
    match e {
        ResolveError::Fetch(f) => fetch_error(f),
        ResolveError::Db(e) => HandleError::from(e),
        other => HandleError::Rejected(other.to_string()),
    }
}

/// The service's view of a checked note: local mentions resolved to our actors.
async fn incoming(ctx: &FederationContext, doc: RemoteNoteDoc, author_id: i64) -> Result<IncomingNote, HandleError> {
    let mut mentions = Vec::new();
    for (href, name) in &doc.addressed_mentions {
        if let Some(actor) = local_actor(ctx, href).await?
            && actor.kind != crate::db::queries::actors::INSTANCE_KIND
            && !mentions.iter().any(|(id, _, _)| *id == actor.id)
        {
            mentions.push((actor.id, actor.ap_id.clone(), name.clone()));
        }
    }
    Ok(IncomingNote {
        ap_id: doc.ap_id.to_string(),
        author_id,
        url: doc.url.filter(storable).map(String::from),
        content_html: doc.content_html,
        summary: doc.summary,
        sensitive: doc.sensitive,
        visibility: doc.visibility.to_owned(),
        in_reply_to: doc.in_reply_to.filter(storable).map(String::from),
        published: doc.published,
        updated: doc.updated,
        attachments_json: doc.attachments_json,
        mentions,
    })
}

/// What became of an inbound note.
#[derive(Debug)]
pub enum Ingested {
    /// Stored (and its ancestors walked as far as the budget allowed).
    Stored,
    /// We had it already.
    Known,
    /// Neither a reply in our threads nor a mention of our accounts.
    NotOurs,
}

/// A note that arrived in a `Create` from its author (already checked), with what is left
/// of its activity's fetch budget.
pub struct Arrived {
    pub doc: RemoteNoteDoc,
    pub author: crate::db::entities::actors::Model,
    pub budget: FetchBudget,
}

/// Stores the notes that are ours to keep, in order and in one transaction
/// (`conversations::store_relevant_notes`), then walks each new orphan's missing ancestors
/// on its own activity's budget. One result per note, in order.
pub async fn ingest_many(ctx: &FederationContext, arrived: Vec<Arrived>) -> Vec<Result<Ingested, HandleError>> {
    let mut results: Vec<Option<Result<Ingested, HandleError>>> = Vec::with_capacity(arrived.len());
    let mut notes = Vec::new();
    let mut budgets = Vec::new();
    for a in arrived {
        match incoming(ctx, a.doc, a.author.id).await {
            Ok(note) => {
                notes.push(note);
                budgets.push((results.len(), a.budget));
                results.push(None);
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    for (kept, (slot, mut budget)) in store_each_or_all(ctx, notes).await.into_iter().zip(budgets) {
        let outcome = match kept {
            Err(e) => Err(HandleError::from(e)),
            Ok(None) => Ok(Ingested::NotOurs),
            Ok(Some(Stored::Known(_))) => Ok(Ingested::Known),
            Ok(Some(Stored::Created(post))) => walk_ancestors(ctx, post, &mut budget).await.map(|()| Ingested::Stored),
        };
        if let Some(r) = results.get_mut(slot) {
            *r = Some(outcome);
        }
    }
    results.into_iter().map(|r| r.unwrap_or_else(|| Err(HandleError::Temporary("not processed".into())))).collect()
}

/// Stores the notes in one transaction; if that fails, each on its own, so that one note at
/// fault (it fails alone) does not hold back the others, whose activities would otherwise
/// fail with it until they are given up. One result per note, in order.
pub async fn store_each_or_all(ctx: &FederationContext, notes: Vec<IncomingNote>) -> Vec<AppResult<Option<Stored>>> {
    let e = match conversations::store_relevant_notes(&ctx.db, notes.clone()).await {
        Ok(kept) => return kept.into_iter().map(Ok).collect(),
        Err(e) => e,
    };
    if notes.len() == 1 {
        return vec![Err(e)];
    }
    tracing::warn!(error = %e, notes = notes.len(), "storing a batch of notes failed; storing them one by one");
    let mut kept = Vec::with_capacity(notes.len());
    for note in notes {
        kept.push(conversations::store_relevant_notes(&ctx.db, vec![note]).await.map(|mut k| k.pop().flatten()));
    }
    kept
}

/// Stores a fetched note (checked by [`fetch_note`]) whether or not it is in our threads:
/// one of our accounts is about to act on it (like or boost it). Returns the row, new or old.
pub async fn keep(
    ctx: &FederationContext,
    doc: RemoteNoteDoc,
    author: &crate::db::entities::actors::Model,
) -> Result<posts::Model, HandleError> {
    let note = incoming(ctx, doc, author.id).await?;
    Ok(conversations::store_note(&ctx.db, note).await?.post().clone())
}

/// Fetches the missing ancestors of `start` upward, iteratively, on `budget`.
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
    let mut walked = conversations::subtree_depth(&ctx.db, current.id).await?;
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
        if let Some(parent) = conversations::find_post(&ctx.db, &parent_id).await? {
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
        let parent = match conversations::store_note(&ctx.db, note).await? {
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
    conversations::link_orphans_of(&ctx.db, parent).await?;
    give_up(ctx, current).await
}

async fn give_up(ctx: &FederationContext, post: &posts::Model) -> Result<(), HandleError> {
    conversations::abandon_parent_fetch(&ctx.db, post.id).await?;
    Ok(())
}

/// The budget is spent: a continuation picks this orphan up at once, on a budget of its own.
async fn continue_later(ctx: &FederationContext, post: &posts::Model) -> Result<(), HandleError> {
    tracing::debug!(post = post.id, "fetch budget spent; the chain continues in the background");
    conversations::schedule_parent_fetch(&ctx.db, post.id, Utc::now(), false).await?;
    Ok(())
}

/// A temporary failure: try again later, with growing delays, a few times.
async fn retry_later(ctx: &FederationContext, post: &posts::Model) -> Result<(), HandleError> {
    if post.parent_fetch_attempts >= MAX_PARENT_ATTEMPTS {
        return give_up(ctx, post).await;
    }
    let delay = chrono::Duration::seconds(30_i64.saturating_mul(1 << post.parent_fetch_attempts.clamp(0, 10)));
    conversations::schedule_parent_fetch(&ctx.db, post.id, Utc::now() + delay, true).await?;
    Ok(())
}

/// Continues due chain walks, each on a fresh per-activity budget.
pub async fn continue_due(ctx: &FederationContext) -> Result<usize, HandleError> {
    let now = Utc::now();
    let due =
        conversations::claim_due_parent_fetches(&ctx.db, now, now + CONTINUATION_LEASE, CONTINUATION_BATCH).await?;
    let count = due.len();
    for post in due {
        let mut budget = FetchBudget::per_activity();
        let id = post.id;
        if let Err(e) = walk_ancestors(ctx, post, &mut budget).await {
            tracing::warn!(post = id, error = %e, "thread continuation failed; the lease expires and it is retried");
        }
    }
    Ok(count)
}

/// The continuation worker: walks the chains that ran out of budget, until shutdown.
pub async fn run_continuations(ctx: FederationContext, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("thread continuation worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = continue_due(&ctx).await {
            tracing::warn!(error = %e, "thread continuation: will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(CONTINUATION_TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("thread continuation worker stopped");
}
