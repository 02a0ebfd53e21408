//! `Like` and `Announce`: a remote actor likes or boosts a post we have; counted once per
//! actor and post. The object is only looked up by id: an embedded copy is never trusted.

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound, activity_id},
        context::FederationContext,
        protocol::lenient::id_of,
    },
    services::{
        Change,
        reactions_received::{self, Reaction},
    },
};

pub(super) async fn receive(
    ctx: &FederationContext,
    activity: &Inbound,
    reaction: Reaction,
) -> Result<Handled, HandleError> {
    let Some(object) = id_of(activity.object()) else {
        return Err(HandleError::Rejected("a Like or Announce needs an object".into()));
    };
    let id = activity_id(activity)?;
    Ok(match reactions_received::react(&ctx.db, &activity.actor, object.as_str(), reaction, &id).await? {
        Change::Applied => Handled::Applied,
        Change::Unchanged => Handled::Ignored("already counted, or a post we do not have"),
    })
}
