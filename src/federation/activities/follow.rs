//! `Follow`: a remote actor asks to follow one of our accounts (inbound), or one of our
//! accounts asks to follow a remote actor (outbound).

use sea_orm::DbErr;
use serde_json::{Value, json};

use crate::{
    db::{entities::actors, queries},
    federation::{
        activities::{HandleError, Handled, Inbound, local_actor, url},
        context::FederationContext,
        delivery::expand::{Built, follow_pair},
        protocol::{activity::Activity, context::ACTIVITYSTREAMS, lenient::id_of},
    },
    services::follows,
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let Some(object) = id_of(activity.object()) else {
        return Err(HandleError::Rejected("Follow without an object".into()));
    };
    let Some(followee) = local_actor(ctx, &object).await? else {
        return Ok(Handled::Ignored("Follow of an actor that is not ours"));
    };
    if followee.kind == crate::domain::ActorKind::Instance {
        return Ok(Handled::Ignored("the instance actor is not followed"));
    }
    let follow_id = activity.json.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    follows::receive_follow(&ctx.db, &activity.actor, &followee, follow_id).await?;
    Ok(Handled::Applied)
}

/// Outbound: the `Follow` one of our accounts asked for (`FollowRequested`), to the remote
/// actor it follows; `None` when the request or either actor is gone.
#[tracing::instrument(skip_all, fields(follow = follow_id))]
pub(crate) async fn outgoing(ctx: &FederationContext, follow_id: i64) -> Result<Option<Built>, DbErr> {
    let Some(row) = queries::follows::find(&ctx.db, follow_id).await? else { return Ok(None) };
    let Some((follower, followee)) = follow_pair(ctx, row.follower_id, row.followee_id).await? else {
        return Ok(None);
    };
    Ok(activity(&row.follow_ap_id, &follower, &followee).map(|a| Built::personal(a, &follower, &followee)))
}

/// `Follow` from `follower` (ours) to `followee` (theirs); its id is the follow's id.
pub(super) fn activity(follow_ap_id: &str, follower: &actors::Model, followee: &actors::Model) -> Option<Activity> {
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id: url(follow_ap_id)?,
        kind: "Follow".into(),
        actor: url(&follower.ap_id)?,
        object: Value::String(followee.ap_id.clone()),
        to: vec![url(&followee.ap_id)?],
        cc: Vec::new(),
    })
}

/// The `Follow` that an `Accept`, a `Reject` or an `Undo` we send embeds.
pub(super) fn embedded(follow_ap_id: &str, follower: &actors::Model, followee: &actors::Model) -> Value {
    json!({ "id": follow_ap_id, "type": "Follow", "actor": follower.ap_id, "object": followee.ap_id })
}
