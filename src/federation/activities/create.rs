//! `Create{Note}`: a reply to one of our posts or to a reply in our threads, or a mention
//! of one of our accounts. Other `Create`s are not ours to keep and are ignored.

use crate::federation::{
    activities::{HandleError, Handled, Inbound, note_from_activity},
    context::FederationContext,
    fetch::FetchBudget,
    threads::{self, Ingested},
};

pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let mut budget = FetchBudget::per_activity();
    let Some(doc) = note_from_activity(ctx, activity, &mut budget).await? else {
        return Ok(Handled::Ignored("Create of an object type not handled"));
    };
    Ok(match threads::ingest(ctx, doc, &activity.actor, &mut budget).await? {
        Ingested::Stored => Handled::Applied,
        Ingested::Known => Handled::Ignored("note already stored"),
        Ingested::NotOurs => Handled::Ignored("a note that neither answers nor mentions us"),
    })
}
