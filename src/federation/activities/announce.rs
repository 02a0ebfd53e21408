//! `Announce`: a remote actor boosts a post we have (inbound), or one of our accounts boosts
//! a post (outbound, publicly, with the author and the booster's followers in `cc`). What
//! it shares with `Like` is in `reaction`.

use crate::{
    db::entities::actors,
    federation::{
        activities::{HandleError, Handled, Inbound, reaction, url},
        context::FederationContext,
        protocol::{activity::Activity, context::PUBLIC},
    },
    services::reactions_received::Reaction,
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    reaction::receive(ctx, activity, Reaction::Announce).await
}

/// `Announce` of the post `post_ap_id` by `actor` (ours): public, with the post's author and
/// the booster's followers in `cc`; its id is the reaction's.
pub(super) fn activity(ap_id: &str, actor: &actors::Model, post_ap_id: &str, author_ap_id: &str) -> Option<Activity> {
    let author = url(author_ap_id)?;
    let followers = url(actor.followers_url.as_deref()?)?;
    reaction::activity(ap_id, "Announce", actor, post_ap_id, vec![url(PUBLIC)?], vec![author, followers])
}
