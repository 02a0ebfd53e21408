//! `Reject{Follow}`: a remote actor refused (or removed) one of our accounts as a follower
//! (inbound), or one of our accounts refuses a remote actor's follow request (outbound).

use sea_orm::DbErr;
use url::Url;

use crate::{
    federation::{
        activities::{
            HandleError, Handled, Inbound,
            accept::{answer, our_follow},
        },
        context::FederationContext,
        delivery::expand::{Built, follow_pair},
    },
    services::follows,
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    match our_follow(ctx, activity).await? {
        Some((follower_id, followee_id)) => {
            follows::remote_rejected(&ctx.db, follower_id, followee_id).await?;
            Ok(Handled::Applied)
        }
        None => Ok(Handled::Ignored("Reject of nothing we asked for")),
    }
}

/// Outbound: the `Reject` of a remote actor's follow request (`FollowRejected`: the row is
/// gone, so the event names the follow); `None` when either actor is gone.
#[tracing::instrument(skip_all, fields(follow = follow_ap_id, activity = %id))]
pub(crate) async fn outgoing(
    ctx: &FederationContext,
    followee_id: i64,
    follower_id: i64,
    follow_ap_id: &str,
    id: Url,
) -> Result<Option<Built>, DbErr> {
    let Some((follower, followee)) = follow_pair(ctx, follower_id, followee_id).await? else { return Ok(None) };
    Ok(answer(id, "Reject", &followee, &follower, follow_ap_id).map(|a| Built::personal(a, &followee, &follower)))
}
