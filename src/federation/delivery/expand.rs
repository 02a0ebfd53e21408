//! Turning recorded events into activities and deliveries (D1, D2).
//!
//! The pipeline: each event is built into one activity with a deterministic id and its
//! audience, by the activity module of its type (`federation::activities`, ADR 0015); the
//! activity is stored with one delivery per distinct inbox, in one transaction that also
//! marks the event processed. Inserts ignore rows that already exist, so a crash (or a
//! second process) re-expanding an event changes nothing.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    db::{
        entities::{actors, outbox_events},
        queries::{self, activities::NewActivity, outbox::AfterFailure},
    },
    federation::{
        activities::{accept, create, delete, follow, reaction, reject, undo, update},
        context::FederationContext,
        protocol::activity::Activity,
    },
    services::{
        outbox::OutboxEvent,
        posts::{self, PostDetails},
    },
};

/// Who receives an activity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// Explicit inboxes.
    #[serde(default)]
    pub inboxes: Vec<String>,
    /// Deliver to every accepted follower of this local actor (one delivery per shared inbox).
    #[serde(default)]
    pub followers_of: Option<i64>,
}

/// An activity ready to store.
pub struct Built {
    pub activity: Activity,
    pub actor_id: i64,
    pub audience: Audience,
}

/// Tries before an event that cannot be expanded is set aside.
const MAX_EVENT_ATTEMPTS: i32 = 5;
/// Events expanded per round.
const BATCH: u64 = 32;
/// Deliveries inserted per statement.
const CHUNK: usize = 500;

/// Expands pending events; returns how many were processed.
pub async fn expand_pending(ctx: &FederationContext) -> Result<usize, DbErr> {
    let events = queries::outbox::pending(&ctx.db, BATCH).await?;
    let mut expanded = 0;
    for event in events {
        match expand_one(ctx, &event).await {
            Ok(()) => expanded += 1,
            Err(e) => {
                // A poison event must not block the ones behind it: after a few tries it is
                // set aside (processed, with its error) for an operator to look at.
                let give_up = event.attempts + 1 >= MAX_EVENT_ATTEMPTS;
                tracing::warn!(event = event.id, error = %e, give_up, "could not expand outbox event");
                let then = if give_up { AfterFailure::SetAside } else { AfterFailure::Retry };
                let writer = crate::db::writer(&ctx.db).await?;
                queries::outbox::record_failure(writer.connection(), event.id, &e.to_string(), then).await?;
            }
        }
    }
    Ok(expanded)
}

async fn expand_one(ctx: &FederationContext, event: &outbox_events::Model) -> Result<(), DbErr> {
    let parsed: OutboxEvent =
        serde_json::from_str(&event.payload).map_err(|e| DbErr::Custom(format!("event {}: {e}", event.id)))?;
    let id = Url::parse(&format!("{}/activities/{}", ctx.urls.origin(), event.id))
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    let built = build(ctx, &parsed, id).await?;
    let mut rest = Vec::new();
    let mut activity_id = 0;
    if let Some(built) = built {
        // The activity and its first deliveries commit at once so the workers start while
        // the rest of a large audience is written (B1: publish → first delivery).
        let txn = crate::db::begin_write(&ctx.db).await?;
        let stored = store(&txn, built).await?;
        activity_id = stored.0;
        rest = stored.1;
        txn.commit().await?;
        ctx.delivery_wakeup.notify_waiters();
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    insert_deliveries(&txn, activity_id, &rest).await?;
    queries::outbox::mark_processed(&txn, event.id).await?;
    txn.commit().await?;
    ctx.delivery_wakeup.notify_waiters();
    Ok(())
}

/// The activity for an event, or `None` when its subject is gone (nothing to tell anyone).
/// Each kind of event is built by the module of the activity type it becomes, where that
/// type is also received (ADR 0015). `id` is the URL minted for this event, used by the
/// activities that have no id of their own (a `Follow`, a `Like` or `Announce`, and a
/// post's `Create` have theirs).
async fn build(ctx: &FederationContext, event: &OutboxEvent, id: Url) -> Result<Option<Built>, DbErr> {
    match event {
        OutboxEvent::FollowAccepted { follow_id } => accept::outgoing(ctx, *follow_id, id).await,
        OutboxEvent::FollowRejected { followee_id, follower_id, follow_ap_id } => {
            reject::outgoing(ctx, *followee_id, *follower_id, follow_ap_id, id).await
        }
        OutboxEvent::FollowRequested { follow_id } => follow::outgoing(ctx, *follow_id).await,
        OutboxEvent::FollowWithdrawn { follower_id, followee_id, follow_ap_id } => {
            undo::follow_withdrawn(ctx, *follower_id, *followee_id, follow_ap_id, id).await
        }
        OutboxEvent::PostPublished { post_id } => create::outgoing(ctx, *post_id).await,
        OutboxEvent::PostEdited { post_id } => update::outgoing(ctx, *post_id, id).await,
        OutboxEvent::PostDeleted { post_id } => delete::outgoing(ctx, *post_id, id).await,
        OutboxEvent::ReactionGiven { reaction_id } => reaction::given(ctx, *reaction_id).await,
        OutboxEvent::ReactionWithdrawn { actor_id, post_id, reaction, reaction_ap_id } => {
            undo::reaction_withdrawn(ctx, *actor_id, *post_id, reaction, reaction_ap_id, id).await
        }
    }
}

impl Built {
    /// An activity from `from` to the one actor `to`, delivered to that actor's own inbox.
    pub(crate) fn personal(activity: Activity, from: &actors::Model, to: &actors::Model) -> Self {
        Self {
            activity,
            actor_id: from.id,
            audience: Audience { inboxes: to.inbox_url.iter().cloned().collect(), followers_of: None },
        }
    }
}

impl Audience {
    /// A post goes to the author's followers and to every mentioned remote actor (D2: each
    /// inbox once, shared inboxes preferred).
    pub(crate) async fn of_post(ctx: &FederationContext, d: &PostDetails) -> Result<Self, DbErr> {
        let mut inboxes = Vec::new();
        for mention in &d.parts.mentions {
            if let Some(actor) = queries::actors::find(&ctx.db, mention.actor_id).await?.filter(|a| !a.local) {
                inboxes.extend(actor.shared_inbox_url.or(actor.inbox_url));
            }
        }
        Ok(Self { inboxes, followers_of: Some(d.author.id) })
    }
}

/// The two actors of a follow, or `None` when either is gone.
pub(crate) async fn follow_pair(
    ctx: &FederationContext,
    follower_id: i64,
    followee_id: i64,
) -> Result<Option<(actors::Model, actors::Model)>, DbErr> {
    let follower = queries::actors::find(&ctx.db, follower_id).await?;
    let followee = queries::actors::find(&ctx.db, followee_id).await?;
    Ok(follower.zip(followee))
}

/// A post with its author and parts.
pub(crate) async fn post_details(ctx: &FederationContext, post_id: i64) -> Result<Option<PostDetails>, DbErr> {
    posts::details(&ctx.db, post_id).await.map_err(|e| DbErr::Custom(format!("post {post_id}: {e}")))
}

/// Deliveries committed with the activity itself; the rest follow in a second transaction.
const FIRST: usize = 256;

/// Stores the activity and its first [`FIRST`] deliveries (idempotently); returns its row id
/// and the inboxes still to insert with [`insert_deliveries`]. A crash between the two leaves
/// the event unprocessed: expanding it again inserts only what is missing.
async fn store(db: &impl ConnectionTrait, built: Built) -> Result<(i64, Vec<String>), DbErr> {
    let now = Utc::now();
    let ap_id = built.activity.id.to_string();
    let payload = serde_json::to_string(&built.activity).map_err(|e| DbErr::Custom(e.to_string()))?;
    let audience = serde_json::to_string(&built.audience).map_err(|e| DbErr::Custom(e.to_string()))?;
    let activity_id = queries::activities::insert_or_find(
        db,
        NewActivity {
            ap_id,
            actor_id: built.actor_id,
            activity_type: built.activity.kind.clone(),
            object_ap_id: crate::federation::protocol::lenient::id_of(&built.activity.object).map(String::from),
            payload,
            audience,
            now,
        },
    )
    .await?;

    let mut inboxes = built.audience.inboxes.clone();
    let followers = match built.audience.followers_of {
        Some(actor_id) => queries::follows::follower_inboxes(db, actor_id).await?,
        None => Vec::new(),
    };
    // Actors who block the sender get nothing from it (their shared inbox still serves others).
    let skip = queries::blocks::inboxes_to_skip(db, built.actor_id, &followers.iter().cloned().collect()).await?;
    inboxes.extend(followers);
    inboxes.retain(|inbox| !skip.contains(inbox));
    inboxes.sort();
    inboxes.dedup();
    let rest = inboxes.split_off(inboxes.len().min(FIRST));
    insert_deliveries(db, activity_id, &inboxes).await?;
    Ok((activity_id, rest))
}

/// Inserts one pending delivery of activity `activity_id` per inbox, skipping existing ones.
async fn insert_deliveries(db: &impl ConnectionTrait, activity_id: i64, inboxes: &[String]) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in inboxes.chunks(CHUNK) {
        let targets: Vec<(String, &str)> =
            chunk.iter().filter_map(|inbox| Some((host_of(&Url::parse(inbox).ok()?), inbox.as_str()))).collect();
        queries::deliveries::insert_pending(db, activity_id, &targets, now).await?;
    }
    Ok(())
}

/// `host[:port]` of a URL: the unit of per-host limits and health.
pub fn host_of(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// Expands events as they are recorded until `shutdown` turns true.
pub async fn run(ctx: FederationContext, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    tracing::info!("outbox expander started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let expanded = match expand_pending(&ctx).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "outbox expander: will retry");
                0
            }
        };
        if expanded == 0 {
            tokio::select! {
                _ = ctx.outbox_wakeup.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!("outbox expander stopped");
}
