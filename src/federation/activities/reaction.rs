//! What `Like` and `Announce` share, both ways. Inbound, a remote actor likes or boosts a
//! post we have: counted once per actor and post; the object is only looked up by id (an
//! embedded copy is never trusted). Outbound, one of our accounts likes or boosts a post:
//! the activity's id is the reaction's own, and `like` and `announce` address it.

use sea_orm::DbErr;
use serde_json::Value;
use url::Url;

use crate::{
    db::{
        entities::{actors, posts},
        queries,
    },
    federation::{
        activities::{HandleError, Handled, Inbound, activity_id, announce, like, url},
        context::FederationContext,
        delivery::expand::{Audience, Built},
        protocol::{activity::Activity, context::ACTIVITYSTREAMS, lenient::id_of},
    },
    services::{
        Change, reactions,
        reactions_received::{self, Reaction},
    },
};

/// Counts a remote actor's `Like` or `Announce` (`reaction`) of a post we have.
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

/// Outbound: the `Like` or `Announce` one of our accounts gave (`ReactionGiven`); `None`
/// when the reaction, its actor or its post is gone.
#[tracing::instrument(skip_all, fields(reaction = reaction_id))]
pub(crate) async fn given(ctx: &FederationContext, reaction_id: i64) -> Result<Option<Built>, DbErr> {
    let row = reactions::find(&ctx.db, reaction_id)
        .await
        .map_err(|e| DbErr::Custom(format!("reaction {reaction_id}: {e}")))?;
    let Some(row) = row else { return Ok(None) };
    let Some(target) = Target::load(ctx, row.actor_id, row.post_id, row.kind.as_str()).await? else { return Ok(None) };
    Ok(target.activity(&row.ap_id).map(|activity| target.built(activity)))
}

/// A reaction of one of our actors, with what its activity needs.
pub(super) struct Target {
    reaction: Reaction,
    actor: actors::Model,
    post: posts::Model,
    author: actors::Model,
}

impl Target {
    /// The reaction of kind `kind` (as stored) by our actor `actor_id` of post `post_id`;
    /// `None` when the kind is unknown, the actor is not ours, or either row is gone.
    pub(super) async fn load(
        ctx: &FederationContext,
        actor_id: i64,
        post_id: i64,
        kind: &str,
    ) -> Result<Option<Self>, DbErr> {
        let Some(reaction) = Reaction::from_kind(kind) else { return Ok(None) };
        let Some(actor) = queries::actors::find(&ctx.db, actor_id).await?.filter(|a| a.local) else {
            return Ok(None);
        };
        let Some(post) = queries::posts::find(&ctx.db, post_id).await? else { return Ok(None) };
        let Some(author) = queries::actors::find(&ctx.db, post.actor_id).await? else { return Ok(None) };
        Ok(Some(Self { reaction, actor, post, author }))
    }

    /// The `Like` or `Announce` whose id is `ap_id`.
    pub(super) fn activity(&self, ap_id: &str) -> Option<Activity> {
        match self.reaction {
            Reaction::Like => like::activity(ap_id, &self.actor, &self.post.ap_id, &self.author.ap_id),
            Reaction::Announce => announce::activity(ap_id, &self.actor, &self.post.ap_id, &self.author.ap_id),
        }
    }

    /// A like goes to the post's author; a boost also to the booster's followers.
    pub(super) fn built(&self, activity: Activity) -> Built {
        let inboxes = if self.author.local {
            Vec::new()
        } else {
            self.author.shared_inbox_url.clone().or_else(|| self.author.inbox_url.clone()).into_iter().collect()
        };
        let followers_of = (self.reaction == Reaction::Announce).then_some(self.actor.id);
        Built { activity, actor_id: self.actor.id, audience: Audience { inboxes, followers_of } }
    }
}

/// A `Like` or `Announce` (`kind`) of the post `post_ap_id` by `actor` (ours), addressed
/// as given; its id is the reaction's.
pub(super) fn activity(
    ap_id: &str,
    kind: &str,
    actor: &actors::Model,
    post_ap_id: &str,
    to: Vec<Url>,
    cc: Vec<Url>,
) -> Option<Activity> {
    Some(Activity {
        context: Value::String(ACTIVITYSTREAMS.into()),
        id: url(ap_id)?,
        kind: kind.to_owned(),
        actor: url(&actor.ap_id)?,
        object: Value::String(post_ap_id.to_owned()),
        to,
        cc,
    })
}
