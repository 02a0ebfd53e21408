//! `Delete`: an author deletes its note (a tombstone stays in the thread), or an actor is
//! deleted (its notes, likes, announces, follows and blocks go). A `Delete` of a note we
//! never stored is remembered for a while, so that its `Create` arriving later is refused
//! (I13); only the note's owner can do this: the object must be on the actor's host, and
//! only a `Create` by the same actor is refused.

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound},
        context::FederationContext,
        objects::remote_actor::same_origin,
        protocol::lenient::id_of,
    },
    services::{Change, remote_actors, remote_notes},
};

pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let Some(id) = id_of(activity.object()) else {
        return Err(HandleError::Rejected("Delete without an object".into()));
    };
    if ctx.is_local(&id) {
        return Err(HandleError::Rejected("Delete of one of our objects".into()));
    }
    let actor_url = url::Url::parse(&activity.actor.ap_id).map_err(|e| HandleError::Rejected(e.to_string()))?;
    if !same_origin(&id, &actor_url) {
        return Err(HandleError::Rejected("Delete of an object on another host".into()));
    }
    let change = if id == actor_url {
        let change = remote_actors::actor_deleted(&ctx.db, &activity.actor).await?;
        // The in-memory copy would still say "alive" to the inbox and this worker.
        ctx.actors.remove(&activity.actor.ap_id);
        change
    } else {
        remote_notes::delete_note(&ctx.db, &activity.actor, id.as_str()).await?
    };
    Ok(match change {
        Change::Applied => Handled::Applied,
        Change::Unchanged => Handled::Ignored("Delete of something we do not have, or already deleted"),
    })
}
