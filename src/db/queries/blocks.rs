//! Blocks of our accounts by remote actors: as received (`services::remote_actors`) and as
//! the delivery expander needs them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::db::entities::{actors, blocks};

/// Inboxes that activities of the local actor `sender_id` must skip: those of the remote
/// actors who block it. A blocker's shared inbox is skipped only when no other recipient
/// of this delivery uses it (`others`: the inboxes computed for everyone else). One
/// indexed query when nobody blocks the sender.
pub async fn inboxes_to_skip(
    db: &impl ConnectionTrait,
    sender_id: i64,
    others: &HashSet<String>,
) -> Result<HashSet<String>, DbErr> {
    let blocker_ids: Vec<i64> = blocks::Entity::find()
        .select_only()
        .column(blocks::Column::ActorId)
        .filter(blocks::Column::TargetActorId.eq(sender_id))
        .into_tuple()
        .all(db)
        .await?;
    if blocker_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let blockers = actors::Entity::find().filter(actors::Column::Id.is_in(blocker_ids)).all(db).await?;
    let mut skip = HashSet::new();
    for actor in blockers {
        skip.extend(actor.inbox_url);
        if let Some(shared) = actor.shared_inbox_url
            && !others.contains(&shared)
        {
            skip.insert(shared);
        }
    }
    Ok(skip)
}

/// Whether `blocker_id` blocks `target_id`.
pub async fn blocks(db: &impl ConnectionTrait, blocker_id: i64, target_id: i64) -> Result<bool, DbErr> {
    Ok(blocks::Entity::find()
        .filter(blocks::Column::ActorId.eq(blocker_id))
        .filter(blocks::Column::TargetActorId.eq(target_id))
        .one(db)
        .await?
        .is_some())
}

/// Stores that `blocker_id` blocks `target_id` (the `Block` activity `ap_id`).
pub async fn insert(
    db: &impl ConnectionTrait,
    blocker_id: i64,
    target_id: i64,
    ap_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    blocks::Entity::insert(blocks::ActiveModel {
        actor_id: Set(blocker_id),
        target_actor_id: Set(target_id),
        ap_id: Set(ap_id.to_owned()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// How an `Undo{Block}` names the block.
#[derive(Clone, Debug)]
pub enum BlockRef {
    /// By the `Block` activity id.
    Activity(String),
    /// By the local actor blocked.
    Target(i64),
}

/// Deletes the block of `blocker_id` that `which` names; whether one was there.
pub async fn delete(db: &impl ConnectionTrait, blocker_id: i64, which: BlockRef) -> Result<bool, DbErr> {
    let query = blocks::Entity::delete_many().filter(blocks::Column::ActorId.eq(blocker_id));
    let query = match which {
        BlockRef::Activity(ap_id) => query.filter(blocks::Column::ApId.eq(ap_id)),
        BlockRef::Target(id) => query.filter(blocks::Column::TargetActorId.eq(id)),
    };
    Ok(query.exec(db).await?.rows_affected > 0)
}

/// Deletes every block `blocker_id` made.
pub async fn delete_by(db: &impl ConnectionTrait, blocker_id: i64) -> Result<(), DbErr> {
    blocks::Entity::delete_many().filter(blocks::Column::ActorId.eq(blocker_id)).exec(db).await.map(|_| ())
}
