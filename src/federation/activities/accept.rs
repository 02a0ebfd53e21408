//! `Accept{Follow}`: a remote actor accepted one of our accounts' follow requests.

use crate::{
    db::queries,
    federation::{
        activities::{HandleError, Handled, Inbound, inner_activity},
        context::FederationContext,
        protocol::lenient::id_of,
    },
    services::follows,
};

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
