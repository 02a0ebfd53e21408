//! `Like`: a remote actor likes a post we have (inbound), or one of our accounts likes a
//! post (outbound, addressed to the post's author alone). What it shares with `Announce`
//! is in `reaction`.

use crate::{
    db::entities::actors,
    federation::{
        activities::{HandleError, Handled, Inbound, reaction, url},
        context::FederationContext,
        protocol::activity::Activity,
    },
    services::reactions_received::Reaction,
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    reaction::receive(ctx, activity, Reaction::Like).await
}

/// `Like` of the post `post_ap_id` by `actor` (ours), to the post's author alone; its id is
/// the reaction's.
pub(super) fn activity(ap_id: &str, actor: &actors::Model, post_ap_id: &str, author_ap_id: &str) -> Option<Activity> {
    let to = vec![url(author_ap_id)?];
    reaction::activity(ap_id, "Like", actor, post_ap_id, to, Vec::new())
}
