//! `Delete`: inbound, an author deletes its note (a tombstone stays in the thread), or an
//! actor is deleted (its notes, likes, announces, follows and blocks go). A `Delete` of a
//! note we never stored is remembered for a while, so that its `Create` arriving later is
//! refused (I13); only the note's owner can do this: the object must be on the actor's
//! host, and only a `Create` by the same actor is refused. Outbound, one of our published
//! posts was deleted: its `Tombstone` goes to the post's audience.

use sea_orm::DbErr;
use url::Url;

use crate::{
    db::entities::actors,
    federation::{
        activities::{HandleError, Handled, Inbound, embedded, url},
        context::FederationContext,
        delivery::expand::{Audience, Built, post_details},
        objects::{
            note::{ApubNote, LdContext, tombstone},
            remote_actor::same_origin,
        },
        protocol::{activity::Activity, context::note_context, lenient::id_of, note::Tombstone},
    },
    services::{Change, remote_actors, remote_notes},
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
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

/// Outbound: the `Delete{Tombstone}` of one of our published posts that was deleted
/// (`PostDeleted`), to the audience its `Create` had; `None` when the post was never out
/// or is not deleted.
#[tracing::instrument(skip_all, fields(post = post_id, activity = %id))]
pub(crate) async fn outgoing(ctx: &FederationContext, post_id: i64, id: Url) -> Result<Option<Built>, DbErr> {
    let Some(d) = post_details(ctx, post_id).await? else { return Ok(None) };
    let (Some(deleted_at), Some(_)) = (d.post.deleted_at, d.post.published_at) else { return Ok(None) };
    let Ok((to, cc)) = ApubNote(&d).addressing(&ctx.urls) else { return Ok(None) };
    let audience = Audience::of_post(ctx, &d).await?;
    Ok(tombstone(&d.post.ap_id, deleted_at, LdContext::Omitted)
        .and_then(|t| activity(id, &d.author, &t, to, cc))
        .map(|activity| Built { activity, actor_id: d.author.id, audience }))
}

/// `Delete{Tombstone}` from the author of a deleted post, to the post's audience.
pub(super) fn activity(
    id: Url,
    author: &actors::Model,
    tombstone: &Tombstone,
    to: Vec<Url>,
    cc: Vec<Url>,
) -> Option<Activity> {
    Some(Activity {
        context: note_context(),
        id,
        kind: "Delete".into(),
        actor: url(&author.ap_id)?,
        object: embedded(tombstone)?,
        to,
        cc,
    })
}
