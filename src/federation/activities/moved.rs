//! `Move`: a remote actor moved to a new account. Accepted only when the new account lists
//! the old one in its `alsoKnownAs` (fetched fresh). Then, as Mastodon does, our accounts
//! that followed the old actor follow the new one and unfollow the old. (The old actor's
//! follows of our accounts are the new account's business: it follows them itself.)

use url::Url;

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound},
        context::FederationContext,
        fetch::FetchBudget,
        protocol::lenient::id_of,
        resolve,
    },
    services::{follows, remote_actors},
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let old = &activity.actor;
    if id_of(activity.object()).is_none_or(|o| o.as_str() != old.ap_id) {
        return Err(HandleError::Rejected("Move of another actor".into()));
    }
    let Some(target_url) = activity.json.get("target").and_then(id_of) else {
        return Err(HandleError::Rejected("Move without a target".into()));
    };
    if ctx.is_local(&target_url) {
        return Ok(Handled::Ignored("a move to this server is not handled"));
    }
    if target_url.as_str() == old.ap_id {
        return Err(HandleError::Rejected("Move to itself".into()));
    }
    let mut budget = FetchBudget::per_activity();
    let target = resolve::actor_fresh(ctx, &target_url, &mut budget)
        .await
        .map_err(|e| HandleError::Temporary(format!("Move target: {e}")))?;
    let aliases: Vec<String> =
        target.also_known_as.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default();
    if !aliases.iter().any(|a| Url::parse(a).is_ok_and(|a| a.as_str() == old.ap_id)) {
        return Err(HandleError::Rejected("the Move target does not list the old actor in alsoKnownAs".into()));
    }
    remote_actors::record_move(&ctx.db, old, &target).await?;
    let followers = remote_actors::local_followers_of(&ctx.db, old.id).await?;
    for follower in &followers {
        follows::follow_remote(&ctx.db, &ctx.urls, follower, &target).await?;
        follows::unfollow_remote(&ctx.db, follower, old).await?;
    }
    if !followers.is_empty() {
        ctx.outbox_wakeup.notify_one();
    }
    tracing::info!(old = %old.ap_id, new = %target.ap_id, followers = followers.len(), "move followed");
    Ok(if followers.is_empty() {
        Handled::Ignored("moved; none of our accounts followed it")
    } else {
        Handled::Applied
    })
}
