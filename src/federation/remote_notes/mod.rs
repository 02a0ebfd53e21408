//! Remote notes coming in: reading a note (embedded in its `Create` or fetched and
//! checked), turning it into the service's [`IncomingNote`] and storing it through
//! `services::remote_notes`, then walking each new orphan's missing ancestors
//! (`ancestors`); the walks that ran out of budget are carried on by the continuation
//! worker (`continuations`).

mod ancestors;
mod continuations;

pub use self::{
    ancestors::{MAX_CHAIN_DEPTH, MAX_PARENT_ATTEMPTS, walk_ancestors},
    continuations::{continue_due, run_continuations},
};
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
        resolve::ResolveError,
    },
    services::remote_notes::{self, IncomingNote, MentionRow, Stored},
};

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
            && actor.kind != crate::domain::ActorKind::Instance
            && !mentions.iter().any(|m: &MentionRow| m.actor_id == actor.id)
        {
            mentions.push(MentionRow { actor_id: actor.id, href: actor.ap_id.clone(), name: name.clone() });
        }
    }
    Ok(IncomingNote {
        ap_id: doc.ap_id.to_string(),
        author_id,
        url: doc.url.filter(storable).map(String::from),
        content_html: doc.content_html,
        summary: doc.summary,
        sensitive: doc.sensitive,
        visibility: doc.visibility,
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
/// (`remote_notes::store_relevant_notes`), then walks each new orphan's missing ancestors
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
    let e = match remote_notes::store_relevant_notes(&ctx.db, notes.clone()).await {
        Ok(kept) => return kept.into_iter().map(Ok).collect(),
        Err(e) => e,
    };
    if notes.len() == 1 {
        return vec![Err(e)];
    }
    tracing::warn!(error = %e, notes = notes.len(), "storing a batch of notes failed; storing them one by one");
    let mut kept = Vec::with_capacity(notes.len());
    for note in notes {
        kept.push(remote_notes::store_relevant_notes(&ctx.db, vec![note]).await.map(|mut k| k.pop().flatten()));
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
    Ok(remote_notes::store_note(&ctx.db, note).await?.post().clone())
}
