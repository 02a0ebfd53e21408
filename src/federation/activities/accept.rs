//! `Accept{Follow}`: a remote actor accepted one of our accounts' follow requests
//! (inbound), or one of our accounts accepts a remote actor's (outbound).

use sea_orm::DbErr;
use serde_json::Value;
use url::Url;

use crate::{
    db::{entities::actors, queries},
    federation::{
        activities::{HandleError, Handled, Inbound, follow, inner_activity, url},
        context::FederationContext,
        delivery::expand::{Built, follow_pair},
        protocol::{activity::Activity, context::ACTIVITYSTREAMS, lenient::id_of},
    },
    services::follows,
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    match our_follow(ctx, activity).await? {
        Some((follower_id, followee_id)) => {
            follows::remote_accepted(&ctx.db, follower_id, followee_id).await?;
            Ok(Handled::Applied)
        }
        None => Ok(Handled::Ignored("Accept of nothing we asked for")),
    }
}

/// The (follower, followee) of our `Follow` that an `Accept`/`Reject` answers, checking that
/// the answering actor is the one we asked.
pub(super) async fn our_follow(ctx: &FederationContext, activity: &Inbound) -> Result<Option<(i64, i64)>, HandleError> {
    let (inner_id, inner_type, inner) = inner_activity(activity.object());
    if inner_type.as_deref().is_some_and(|t| t != "Follow") {
        return Ok(None);
    }
    // By the id of our Follow, when given and known.
    if let Some(id) = &inner_id
        && let Some(row) = queries::follows::find_by_follow_ap_id(&ctx.db, id.as_str()).await?
    {
        return Ok((row.followee_id == activity.actor.id).then_some((row.follower_id, row.followee_id)));
    }
    // Some servers answer with an embedded Follow whose id they do not echo: match the pair.
    let Some(follow) = inner else { return Ok(None) };
    let (Some(follower), Some(followee)) = (follow.get("actor").and_then(id_of), follow.get("object").and_then(id_of))
    else {
        return Ok(None);
    };
    if followee.as_str() != activity.actor.ap_id || !ctx.is_local(&follower) {
        return Ok(None);
    }
    let Some(local) = queries::actors::find_by_ap_id(&ctx.db, follower.as_str()).await?.filter(|a| a.local) else {
        return Ok(None);
    };
    Ok(Some((local.id, activity.actor.id)))
}

/// Outbound: the `Accept` of a remote actor's follow of one of our accounts
/// (`FollowAccepted`); `None` when the follow or either actor is gone.
#[tracing::instrument(skip_all, fields(follow = follow_id, activity = %id))]
pub(crate) async fn outgoing(ctx: &FederationContext, follow_id: i64, id: Url) -> Result<Option<Built>, DbErr> {
    let Some(row) = queries::follows::find(&ctx.db, follow_id).await? else { return Ok(None) };
    let Some((follower, followee)) = follow_pair(ctx, row.follower_id, row.followee_id).await? else {
        return Ok(None);
    };
    Ok(answer(id, "Accept", &followee, &follower, &row.follow_ap_id).map(|a| Built::personal(a, &followee, &follower)))
}

/// `Accept{Follow}` or `Reject{Follow}` from `followee` (ours) to `follower` (theirs).
pub(super) fn answer(
    id: Url,
    kind: &str,
    followee: &actors::Model,
    follower: &actors::Model,
    follow_ap_id: &str,
) -> Option<Activity> {
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id,
        kind: kind.to_owned(),
        actor: url(&followee.ap_id)?,
        object: follow::embedded(follow_ap_id, follower, followee),
        to: vec![url(&follower.ap_id)?],
        cc: Vec::new(),
    })
}
