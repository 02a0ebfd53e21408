//! `Undo`: today, `Undo{Follow}` (a remote actor unfollows one of our accounts).

use crate::{
    db::queries,
    federation::{
        activities::{HandleError, Handled, Inbound, inner_activity, local_actor},
        context::FederationContext,
        protocol::lenient::id_of,
    },
    services::follows,
};

pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let (inner_id, inner_type, inner) = inner_activity(activity.object());
    // The followee: from the embedded Follow, or from our record of that Follow's id.
    let followee = match (inner_type.as_deref(), inner) {
        (Some("Follow"), Some(follow)) => {
            // Only the actor who followed may undo it (I8).
            if follow.get("actor").and_then(id_of).is_some_and(|a| a.as_str() != activity.actor.ap_id) {
                return Err(HandleError::Rejected("Undo of someone else's Follow".into()));
            }
            match follow.get("object").and_then(id_of) {
                Some(url) => local_actor(ctx, &url).await?,
                None => None,
            }
        }
        (Some(_), _) => return Ok(Handled::Ignored("Undo of an activity type not handled")),
        (None, _) => match inner_id {
            Some(id) => match queries::follows::find_by_follow_ap_id(&ctx.db, id.as_str()).await? {
                Some(row) if row.follower_id == activity.actor.id => {
                    queries::actors::find(&ctx.db, row.followee_id).await?.filter(|a| a.local)
                }
                _ => None,
            },
            None => None,
        },
    };
    let Some(followee) = followee else {
        return Ok(Handled::Ignored("Undo of a follow we do not know"));
    };
    follows::receive_unfollow(&ctx.db, &activity.actor, &followee).await?;
    Ok(Handled::Applied)
}
