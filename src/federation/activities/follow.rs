//! `Follow`: a remote actor asks to follow one of our accounts.

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound, local_actor},
        context::FederationContext,
        protocol::lenient::id_of,
    },
    services::follows,
};

pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let Some(object) = id_of(activity.object()) else {
        return Err(HandleError::Rejected("Follow without an object".into()));
    };
    let Some(followee) = local_actor(ctx, &object).await? else {
        return Ok(Handled::Ignored("Follow of an actor that is not ours"));
    };
    if followee.kind == crate::db::queries::actors::INSTANCE_KIND {
        return Ok(Handled::Ignored("the instance actor is not followed"));
    }
    let follow_id = activity.json.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    follows::receive_follow(&ctx.db, &activity.actor, &followee, follow_id).await?;
    Ok(Handled::Applied)
}
