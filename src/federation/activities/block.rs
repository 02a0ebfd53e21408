//! `Block`: a remote actor blocks one of our accounts. We end the follows between them and
//! stop delivering that account's activities to it.

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound, activity_id, local_actor},
        context::FederationContext,
        protocol::lenient::id_of,
    },
    services::{Change, remote_actors},
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let Some(object) = id_of(activity.object()) else {
        return Err(HandleError::Rejected("Block without an object".into()));
    };
    let Some(target) = local_actor(ctx, &object).await? else {
        return Ok(Handled::Ignored("Block of an actor that is not ours"));
    };
    let id = activity_id(activity)?;
    Ok(match remote_actors::receive_block(&ctx.db, &activity.actor, &target, &id).await? {
        Change::Applied => Handled::Applied,
        Change::Unchanged => Handled::Ignored("block already stored"),
    })
}
