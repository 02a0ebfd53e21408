//! `Create{Note}`: inbound, a reply to one of our posts or to a reply in our threads, or a
//! mention of one of our accounts (other `Create`s are not ours to keep and are ignored);
//! outbound, one of our posts going out ([`outgoing`]).
//!
//! Checking a `Create` ([`prepare`]: I8, the note's shape, a fetch when only its id is
//! given) is done per activity; storing is done for a run of consecutive `Create`s at once
//! ([`store`]), in one transaction, so a busy thread does not cost a transaction per reply.
//!
//! A `Create` of a note its author deleted before we stored it (a `Delete` that overtook its
//! `Create`, remembered for `services::remote_notes::DELETE_REMEMBERED`) is refused (I13): checked
//! here before any fetch, and again in the transaction that stores.

use sea_orm::DbErr;
use url::Url;

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound, embedded, note_from_activity},
        context::FederationContext,
        delivery::expand::{Audience, Built, post_details},
        fetch::FetchBudget,
        objects::note::{ApubNote, LdContext},
        protocol::{activity::Activity, context::note_context, lenient::id_of, note::Note},
        remote_notes::{self, Arrived, Ingested},
    },
    services::posts::PostDetails,
};

/// A checked `Create`: settled already, or a note to store.
pub(super) enum Prepared {
    Settled(Handled),
    Note(Box<Arrived>),
}

/// Checks a `Create` and reads its note, without storing anything.
#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn prepare(ctx: &FederationContext, activity: Inbound) -> Result<Prepared, HandleError> {
    if let Some(id) = id_of(activity.object())
        && crate::services::remote_notes::deleted_before_stored(&ctx.db, id.as_str(), activity.actor.id).await?
    {
        return Ok(Prepared::Settled(Handled::Ignored("Create of a note its author has deleted")));
    }
    let mut budget = FetchBudget::per_activity();
    let Some(doc) = note_from_activity(ctx, &activity, &mut budget).await? else {
        return Ok(Prepared::Settled(Handled::Ignored("Create of an object type not handled")));
    };
    Ok(Prepared::Note(Box::new(Arrived { doc, author: activity.actor, budget })))
}

/// Stores the notes of several prepared `Create`s, in order; one outcome each.
#[tracing::instrument(skip_all, fields(notes = notes.len()))]
pub(super) async fn store(ctx: &FederationContext, notes: Vec<Arrived>) -> Vec<Result<Handled, HandleError>> {
    remote_notes::ingest_many(ctx, notes)
        .await
        .into_iter()
        .map(|r| {
            r.map(|ingested| match ingested {
                Ingested::Stored => Handled::Applied,
                Ingested::Known => Handled::Ignored("note already stored"),
                Ingested::NotOurs => Handled::Ignored("a note that neither answers nor mentions us"),
            })
        })
        .collect()
}

/// Outbound: the `Create{Note}` of one of our posts that went out (`PostPublished`), to
/// the author's followers and the accounts it mentions. Its id is the post's activity URL,
/// the one the post's own address serves. `None` when the post is not (or no longer) out.
#[tracing::instrument(skip_all, fields(post = post_id))]
pub(crate) async fn outgoing(ctx: &FederationContext, post_id: i64) -> Result<Option<Built>, DbErr> {
    let Some(d) = sendable(ctx, post_id).await? else { return Ok(None) };
    let Ok(create_id) = Url::parse(&ctx.urls.post_activity(&d.author.username, d.post.id)) else {
        return Ok(None);
    };
    let note = note_of(ctx, &d);
    let audience = Audience::of_post(ctx, &d).await?;
    Ok(note.and_then(|n| activity(create_id, &n)).map(|activity| Built { activity, actor_id: d.author.id, audience }))
}

/// A post that is out (published and not deleted), with its author and parts: what a
/// `Create` or an `Update` sends.
pub(super) async fn sendable(ctx: &FederationContext, post_id: i64) -> Result<Option<PostDetails>, DbErr> {
    let Some(d) = post_details(ctx, post_id).await? else { return Ok(None) };
    if d.post.published_at.is_none() || d.post.deleted_at.is_some() {
        return Ok(None);
    }
    Ok(Some(d))
}

/// The Note of a post, to embed; `None` (nothing sent, logged) when a stored URL is broken.
pub(super) fn note_of(ctx: &FederationContext, d: &PostDetails) -> Option<Note> {
    match ApubNote(d).into_json(&ctx.urls, LdContext::Omitted) {
        Ok(note) => Some(note),
        Err(e) => {
            tracing::warn!(error = %e, "post not sent");
            None
        }
    }
}

/// `Create{Note}` from the Note's author, addressed as the Note is: what we send, and what
/// a post's activity URL and its author's outbox serve.
pub(crate) fn activity(id: Url, note: &Note) -> Option<Activity> {
    note_activity(id, "Create", note)
}

/// `Create{Note}` or `Update{Note}` (`kind`) from the Note's author, addressed as the Note is.
pub(super) fn note_activity(id: Url, kind: &str, note: &Note) -> Option<Activity> {
    Some(Activity {
        context: note_context(),
        id,
        kind: kind.to_owned(),
        actor: note.attributed_to.clone(),
        object: embedded(note)?,
        to: note.to.clone(),
        cc: note.cc.clone(),
    })
}
