//! `Create{Note}`: a reply to one of our posts or to a reply in our threads, or a mention
//! of one of our accounts. Other `Create`s are not ours to keep and are ignored.
//!
//! Checking a `Create` ([`prepare`]: I8, the note's shape, a fetch when only its id is
//! given) is done per activity; storing is done for a run of consecutive `Create`s at once
//! ([`store`]), in one transaction, so a busy thread does not cost a transaction per reply.
//!
//! A `Create` of a note its author deleted before we stored it (a `Delete` that overtook its
//! `Create`, remembered for `services::remote_notes::DELETE_REMEMBERED`) is refused (I13): checked
//! here before any fetch, and again in the transaction that stores.

use crate::federation::{
    activities::{HandleError, Handled, Inbound, note_from_activity},
    context::FederationContext,
    fetch::FetchBudget,
    protocol::lenient::id_of,
    remote_notes::{self, Arrived, Ingested},
};

/// A checked `Create`: settled already, or a note to store.
pub(super) enum Prepared {
    Settled(Handled),
    Note(Box<Arrived>),
}

/// Checks a `Create` and reads its note, without storing anything.
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
