//! Blocks of our accounts by remote actors, as the delivery expander needs them.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

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
