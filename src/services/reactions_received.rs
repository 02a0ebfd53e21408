//! Likes and announces other servers send about posts we have: counted once per actor, post
//! and kind, withdrawn by their `Undo`. The rows and counters are shared with the reactions
//! our own accounts give (`services::reactions`), which store them through [`add_reaction`]
//! and [`remove_reaction`].

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

pub use crate::db::entities::reactions::Reaction;
use crate::{
    db::{
        entities::{actors, reactions},
        queries::{self, reactions::Named},
    },
    error::AppResult,
    services::Change,
};

/// A remote actor likes or announces a post we have. Counted once per actor and post.
#[tracing::instrument(skip_all, fields(actor = actor.id, post = post_ap_id, activity = activity_ap_id, reaction = reaction.as_str()))]
pub async fn react(
    db: &DatabaseConnection,
    actor: &actors::Model,
    post_ap_id: &str,
    reaction: Reaction,
    activity_ap_id: &str,
) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let Some(post) = queries::posts::find_by_ap_id(&txn, post_ap_id).await? else { return Ok(Change::Unchanged) };
    if post.deleted_at.is_some() || post.published_at.is_none() {
        return Ok(Change::Unchanged);
    }
    if queries::reactions::find_same(&txn, post.id, actor.id, reaction, activity_ap_id).await?.is_some() {
        return Ok(Change::Unchanged);
    }
    add_reaction(&txn, post.id, actor.id, reaction, activity_ap_id).await?;
    txn.commit().await?;
    Ok(Change::Applied)
}

/// Stores a like or announce of `post_id` by `actor_id` (remote or ours) and counts it.
pub(crate) async fn add_reaction(
    db: &impl ConnectionTrait,
    post_id: i64,
    actor_id: i64,
    reaction: Reaction,
    ap_id: &str,
) -> Result<reactions::Model, DbErr> {
    let row = queries::reactions::insert(db, post_id, actor_id, reaction, ap_id, Utc::now()).await?;
    queries::reactions::bump(db, post_id, reaction, 1).await?;
    Ok(row)
}

/// Removes a stored like or announce and uncounts it; `false` when it was gone already.
pub(crate) async fn remove_reaction(
    db: &impl ConnectionTrait,
    row: &reactions::Model,
    reaction: Reaction,
) -> Result<bool, DbErr> {
    if !queries::reactions::delete(db, row.id).await? {
        return Ok(false);
    }
    queries::reactions::bump(db, row.post_id, reaction, -1).await?;
    Ok(true)
}

/// How an `Undo` names the reaction it withdraws.
#[derive(Clone, Debug)]
pub enum ReactionRef {
    /// By the `Like`/`Announce` activity id.
    Activity(String),
    /// By the post it was about.
    Post(String),
}

/// A remote actor withdraws its like or announce (only its own).
#[tracing::instrument(skip_all, fields(actor = actor.id, reaction = reaction.as_str(), ?which))]
pub async fn unreact(
    db: &DatabaseConnection,
    actor: &actors::Model,
    reaction: Reaction,
    which: ReactionRef,
) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let named = match &which {
        ReactionRef::Activity(ap_id) => Named::Activity(ap_id),
        ReactionRef::Post(post_ap_id) => match queries::posts::find_by_ap_id(&txn, post_ap_id).await? {
            Some(post) => Named::Post(post.id),
            None => return Ok(Change::Unchanged),
        },
    };
    let Some(row) = queries::reactions::find_of_actor(&txn, actor.id, reaction, named).await? else {
        return Ok(Change::Unchanged);
    };
    remove_reaction(&txn, &row, reaction).await?;
    txn.commit().await?;
    Ok(Change::Applied)
}
