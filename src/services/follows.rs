//! Follows: remote people following our accounts (accepted at once, or held for approval
//! when the account is locked), and our accounts following remote ones.
//!
//! Every change that other servers must hear about records an [`OutboxEvent`] in the same
//! transaction.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::{
            actors,
            follows::{self, FollowState},
        },
        queries,
    },
    error::{AppError, AppResult},
    services::outbox::{self, OutboxEvent},
    urls::Urls,
};

/// What became of a follow request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowOutcome {
    /// Accepted: the follower receives our posts from now on.
    Accepted,
    /// Held for staff approval (locked account).
    Pending,
}

/// A remote actor asks to follow a local account. Idempotent: a repeated request re-sends
/// the acceptance (peers re-send Follow when they lost our Accept).
#[tracing::instrument(skip_all, fields(follower = %follower.ap_id, followee = %followee.ap_id, follow = %follow_ap_id))]
pub async fn receive_follow(
    db: &DatabaseConnection,
    follower: &actors::Model,
    followee: &actors::Model,
    follow_ap_id: &str,
) -> AppResult<FollowOutcome> {
    if !followee.local || follower.local {
        return Err(AppError::bad_request("follows are received from remote actors for local accounts"));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let existing = queries::follows::find_pair(&txn, follower.id, followee.id).await?;
    let outcome = match existing {
        Some(row) if row.state == FollowState::Accepted => {
            let row = queries::follows::accept(&txn, row, follow_ap_id, now).await?;
            outbox::record(&txn, &OutboxEvent::FollowAccepted { follow_id: row.id }).await?;
            FollowOutcome::Accepted
        }
        Some(_) if followee.manually_approves_followers => FollowOutcome::Pending,
        Some(row) => {
            let row = queries::follows::accept(&txn, row, follow_ap_id, now).await?;
            outbox::record(&txn, &OutboxEvent::FollowAccepted { follow_id: row.id }).await?;
            FollowOutcome::Accepted
        }
        None if followee.manually_approves_followers => {
            queries::follows::insert(&txn, follower.id, followee.id, follow_ap_id, FollowState::Pending, now).await?;
            FollowOutcome::Pending
        }
        None => {
            let row =
                queries::follows::insert(&txn, follower.id, followee.id, follow_ap_id, FollowState::Accepted, now)
                    .await?;
            outbox::record(&txn, &OutboxEvent::FollowAccepted { follow_id: row.id }).await?;
            FollowOutcome::Accepted
        }
    };
    txn.commit().await?;
    tracing::info!(?outcome, "follow received");
    Ok(outcome)
}

/// A remote actor withdraws its follow (`Undo{Follow}`). Unknown relations are a no-op.
#[tracing::instrument(skip_all, fields(follower = %follower.ap_id, followee = %followee.ap_id))]
pub async fn receive_unfollow(
    db: &DatabaseConnection,
    follower: &actors::Model,
    followee: &actors::Model,
) -> AppResult<bool> {
    delete_pair(db, follower.id, followee.id).await
}

/// Removes the relation between two actors, if any (nothing to tell other servers).
async fn delete_pair(db: &DatabaseConnection, follower_id: i64, followee_id: i64) -> AppResult<bool> {
    let txn = crate::db::begin_write(db).await?;
    let removed = match queries::follows::find_pair(&txn, follower_id, followee_id).await? {
        Some(row) => {
            queries::follows::delete(&txn, row.id).await?;
            true
        }
        None => false,
    };
    txn.commit().await?;
    Ok(removed)
}

/// Staff approve a pending request to a locked account.
#[tracing::instrument(skip_all, fields(follow = follow_id))]
pub async fn approve(db: &DatabaseConnection, follow_id: i64) -> AppResult<follows::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = pending_request(&txn, follow_id).await?;
    let follow_ap_id = row.follow_ap_id.clone();
    let row = queries::follows::accept(&txn, row, &follow_ap_id, Utc::now()).await?;
    outbox::record(&txn, &OutboxEvent::FollowAccepted { follow_id: row.id }).await?;
    txn.commit().await?;
    Ok(row)
}

/// Staff reject a pending request to a locked account.
#[tracing::instrument(skip_all, fields(follow = follow_id))]
pub async fn reject(db: &DatabaseConnection, follow_id: i64) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let row = pending_request(&txn, follow_id).await?;
    queries::follows::delete(&txn, row.id).await?;
    let event = OutboxEvent::FollowRejected {
        followee_id: row.followee_id,
        follower_id: row.follower_id,
        follow_ap_id: row.follow_ap_id,
    };
    outbox::record(&txn, &event).await?;
    txn.commit().await?;
    Ok(())
}

async fn pending_request(db: &impl sea_orm::ConnectionTrait, follow_id: i64) -> AppResult<follows::Model> {
    match queries::follows::find(db, follow_id).await? {
        Some(row) if row.state == FollowState::Pending => Ok(row),
        Some(_) => Err(AppError::conflict(format!("follow request {follow_id} is not pending"))),
        None => Err(AppError::not_found(format!("no follow request {follow_id}"))),
    }
}

/// Pending requests to a local account, oldest first.
pub async fn pending_for(db: &DatabaseConnection, followee_id: i64) -> AppResult<Vec<(follows::Model, actors::Model)>> {
    Ok(queries::follows::pending_requests(db, followee_id).await?)
}

/// A local account asks to follow a remote actor. Re-asking an existing relation is a no-op.
#[tracing::instrument(skip_all, fields(follower = %follower.ap_id, followee = %followee.ap_id))]
pub async fn follow_remote(
    db: &DatabaseConnection,
    urls: &Urls,
    follower: &actors::Model,
    followee: &actors::Model,
) -> AppResult<follows::Model> {
    if !follower.local || followee.local {
        return Err(AppError::bad_request("a local account follows a remote one here"));
    }
    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) = queries::follows::find_pair(&txn, follower.id, followee.id).await? {
        return Ok(existing);
    }
    let follow_ap_id = urls.base().join(&format!("/follows/{}", uuid::Uuid::new_v4()));
    let row = queries::follows::insert(&txn, follower.id, followee.id, &follow_ap_id, FollowState::Pending, Utc::now())
        .await?;
    outbox::record(&txn, &OutboxEvent::FollowRequested { follow_id: row.id }).await?;
    txn.commit().await?;
    Ok(row)
}

/// A local account stops following (or withdraws its request to) a remote actor.
#[tracing::instrument(skip_all, fields(follower = %follower.ap_id, followee = %followee.ap_id))]
pub async fn unfollow_remote(
    db: &DatabaseConnection,
    follower: &actors::Model,
    followee: &actors::Model,
) -> AppResult<bool> {
    let txn = crate::db::begin_write(db).await?;
    let Some(row) = queries::follows::find_pair(&txn, follower.id, followee.id).await? else {
        return Ok(false);
    };
    queries::follows::delete(&txn, row.id).await?;
    let event = OutboxEvent::FollowWithdrawn {
        follower_id: follower.id,
        followee_id: followee.id,
        follow_ap_id: row.follow_ap_id,
    };
    outbox::record(&txn, &event).await?;
    txn.commit().await?;
    Ok(true)
}

/// The remote side accepted our follow (`Accept{Follow}`), identified by our Follow's id
/// or, for servers that do not echo it, by the pair.
#[tracing::instrument(skip(db))]
pub async fn remote_accepted(db: &DatabaseConnection, follower_id: i64, followee_id: i64) -> AppResult<bool> {
    let txn = crate::db::begin_write(db).await?;
    let Some(row) = queries::follows::find_pair(&txn, follower_id, followee_id).await? else {
        return Ok(false);
    };
    let follow_ap_id = row.follow_ap_id.clone();
    if row.state != FollowState::Accepted {
        queries::follows::accept(&txn, row, &follow_ap_id, Utc::now()).await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// The remote side rejected our follow, or removed us as a follower.
#[tracing::instrument(skip(db))]
pub async fn remote_rejected(db: &DatabaseConnection, follower_id: i64, followee_id: i64) -> AppResult<bool> {
    delete_pair(db, follower_id, followee_id).await
}

/// Follower and following counts of an actor.
pub async fn counts(db: &DatabaseConnection, actor_id: i64) -> AppResult<(u64, u64)> {
    Ok((queries::follows::count_followers(db, actor_id).await?, queries::follows::count_following(db, actor_id).await?))
}

/// Entries per collection page.
pub const PAGE_SIZE: u64 = 40;

/// Page `page` (from 1) of an actor's accepted followers, newest first.
pub async fn followers_page(db: &DatabaseConnection, actor_id: i64, page: u64) -> AppResult<Vec<actors::Model>> {
    Ok(queries::follows::followers_page(db, actor_id, page.saturating_sub(1) * PAGE_SIZE, PAGE_SIZE).await?)
}

/// Page `page` (from 1) of the accounts an actor follows, newest first.
pub async fn following_page(db: &DatabaseConnection, actor_id: i64, page: u64) -> AppResult<Vec<actors::Model>> {
    Ok(queries::follows::following_page(db, actor_id, page.saturating_sub(1) * PAGE_SIZE, PAGE_SIZE).await?)
}
