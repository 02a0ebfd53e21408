//! `Undo`, inbound: of a `Follow` (a remote actor unfollows one of our accounts), a `Like`,
//! an `Announce` or a `Block`. Only the actor who did something may undo it (I8). The inner
//! activity may be embedded or named by id. Outbound: one of our accounts withdraws its
//! follow, like or boost; the `Undo` embeds the activity it withdraws.

use sea_orm::DbErr;
use serde_json::Value;
use url::Url;

use crate::{
    db::{entities::actors, queries},
    federation::{
        activities::{HandleError, Handled, Inbound, embedded, follow, inner_activity, local_actor, reaction, url},
        context::FederationContext,
        delivery::expand::{Built, follow_pair},
        protocol::{activity::Activity, context::ACTIVITYSTREAMS, lenient::id_of},
    },
    services::{
        Change, follows,
        reactions_received::{self, Reaction, ReactionRef},
        remote_actors::{self, BlockRef},
    },
};

#[tracing::instrument(skip_all, fields(activity = %activity.id(), actor = %activity.actor.ap_id))]
pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    let (inner_id, inner_type, inner) = inner_activity(activity.object());
    if let Some(inner) = inner
        && inner.get("actor").and_then(id_of).is_some_and(|a| a.as_str() != activity.actor.ap_id)
    {
        return Err(HandleError::Rejected("Undo of someone else's activity".into()));
    }
    let inner_object = inner.and_then(|i| i.get("object")).and_then(id_of);
    match inner_type.as_deref() {
        Some("Follow") => {
            let followee = match inner_object {
                Some(url) => local_actor(ctx, &url).await?,
                None => None,
            };
            unfollow(ctx, activity, followee).await
        }
        Some(kind @ ("Like" | "Announce")) => {
            let reaction = if kind == "Like" { Reaction::Like } else { Reaction::Announce };
            let which = match (inner_id, inner_object) {
                (Some(id), _) => ReactionRef::Activity(id.to_string()),
                (None, Some(object)) => ReactionRef::Post(object.to_string()),
                (None, None) => return Err(HandleError::Rejected("Undo names nothing".into())),
            };
            let mut change = reactions_received::unreact(&ctx.db, &activity.actor, reaction, which).await?;
            // Peers that mint a new id for the embedded activity: fall back to the post.
            if change == Change::Unchanged
                && let Some(object) = inner.and_then(|i| i.get("object")).and_then(id_of)
            {
                change = reactions_received::unreact(
                    &ctx.db,
                    &activity.actor,
                    reaction,
                    ReactionRef::Post(object.to_string()),
                )
                .await?;
            }
            Ok(outcome(change, "Undo of a reaction we do not have"))
        }
        Some("Block") => {
            let which = match (inner_object, inner_id) {
                (Some(object), _) => match local_actor(ctx, &object).await? {
                    Some(target) => BlockRef::Target(target.id),
                    None => return Ok(Handled::Ignored("Undo of a Block of an actor that is not ours")),
                },
                (None, Some(id)) => BlockRef::Activity(id.to_string()),
                (None, None) => return Err(HandleError::Rejected("Undo names nothing".into())),
            };
            Ok(outcome(
                remote_actors::receive_unblock(&ctx.db, &activity.actor, which).await?,
                "Undo of an unknown Block",
            ))
        }
        Some(_) => Ok(Handled::Ignored("Undo of an activity type not handled")),
        None => {
            let Some(id) = inner_id else { return Err(HandleError::Rejected("Undo names nothing".into())) };
            // Only an id: find what it named among the things this actor did.
            if let Some(row) = queries::follows::find_by_follow_ap_id(&ctx.db, id.as_str()).await?
                && row.follower_id == activity.actor.id
            {
                let followee = queries::actors::find(&ctx.db, row.followee_id).await?.filter(|a| a.local);
                return unfollow(ctx, activity, followee).await;
            }
            for reaction in [Reaction::Like, Reaction::Announce] {
                let change = reactions_received::unreact(
                    &ctx.db,
                    &activity.actor,
                    reaction,
                    ReactionRef::Activity(id.to_string()),
                )
                .await?;
                if change == Change::Applied {
                    return Ok(Handled::Applied);
                }
            }
            let change =
                remote_actors::receive_unblock(&ctx.db, &activity.actor, BlockRef::Activity(id.to_string())).await?;
            Ok(outcome(change, "Undo of something we do not know"))
        }
    }
}

async fn unfollow(
    ctx: &FederationContext,
    activity: &Inbound,
    followee: Option<crate::db::entities::actors::Model>,
) -> Result<Handled, HandleError> {
    let Some(followee) = followee else {
        return Ok(Handled::Ignored("Undo of a follow we do not know"));
    };
    follows::receive_unfollow(&ctx.db, &activity.actor, &followee).await?;
    Ok(Handled::Applied)
}

fn outcome(change: Change, unchanged: &'static str) -> Handled {
    match change {
        Change::Applied => Handled::Applied,
        Change::Unchanged => Handled::Ignored(unchanged),
    }
}

/// Outbound: the `Undo{Follow}` of one of our accounts that stopped following a remote
/// actor (`FollowWithdrawn`: the row is gone, so the event names the follow); `None` when
/// either actor is gone.
#[tracing::instrument(skip_all, fields(follow = follow_ap_id, activity = %id))]
pub(crate) async fn follow_withdrawn(
    ctx: &FederationContext,
    follower_id: i64,
    followee_id: i64,
    follow_ap_id: &str,
    id: Url,
) -> Result<Option<Built>, DbErr> {
    let Some((follower, followee)) = follow_pair(ctx, follower_id, followee_id).await? else { return Ok(None) };
    Ok(undo_follow(id, follow_ap_id, &follower, &followee).map(|a| Built::personal(a, &follower, &followee)))
}

/// `Undo{Follow}` from `follower` (ours).
pub(super) fn undo_follow(
    id: Url,
    follow_ap_id: &str,
    follower: &actors::Model,
    followee: &actors::Model,
) -> Option<Activity> {
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id,
        kind: "Undo".into(),
        actor: url(&follower.ap_id)?,
        object: follow::embedded(follow_ap_id, follower, followee),
        to: vec![url(&followee.ap_id)?],
        cc: Vec::new(),
    })
}

/// Outbound: the `Undo` of a like or boost one of our accounts withdrew
/// (`ReactionWithdrawn`: the row is gone, so the event names it), addressed and delivered
/// as the reaction was; `None` when the actor or the post is gone.
#[tracing::instrument(skip_all, fields(reaction = reaction_ap_id, post = post_id, activity = %id))]
pub(crate) async fn reaction_withdrawn(
    ctx: &FederationContext,
    actor_id: i64,
    post_id: i64,
    kind: &str,
    reaction_ap_id: &str,
    id: Url,
) -> Result<Option<Built>, DbErr> {
    let Some(target) = reaction::Target::load(ctx, actor_id, post_id, kind).await? else { return Ok(None) };
    Ok(target.activity(reaction_ap_id).and_then(|r| undo_reaction(id, r)).map(|activity| target.built(activity)))
}

/// `Undo` of a `Like` or `Announce` (`undone`), addressed as it was.
pub(super) fn undo_reaction(id: Url, mut undone: Activity) -> Option<Activity> {
    let object = embedded(&undone)?;
    undone.id = id;
    undone.kind = "Undo".into();
    undone.object = object;
    Some(undone)
}
