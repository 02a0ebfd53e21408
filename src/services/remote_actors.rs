//! What remote actors do to or about our accounts beyond notes and reactions: they are
//! deleted, they report, they block, they move. Each is idempotent.

use chrono::Utc;
use sea_orm::DatabaseConnection;

pub use crate::db::queries::blocks::BlockRef;
use crate::{
    db::{
        entities::{actors, reports},
        queries::{self, posts::RemoteNotes, reports::NewReport},
    },
    error::{AppError, AppResult},
    services::{Change, remote_notes},
};

/// A remote actor was deleted: its notes become tombstones, its likes, announces, follows
/// (both ways) and blocks go, and the row stays marked deleted.
#[tracing::instrument(skip_all, fields(actor = actor.id, ap_id = %actor.ap_id))]
pub async fn actor_deleted(db: &DatabaseConnection, actor: &actors::Model) -> AppResult<Change> {
    if actor.local {
        return Err(AppError::forbidden("a local actor is not deleted from outside"));
    }
    let txn = crate::db::begin_write(db).await?;
    let Some(current) = queries::actors::find(&txn, actor.id).await? else { return Ok(Change::Unchanged) };
    if current.deleted_at.is_some() {
        return Ok(Change::Unchanged);
    }
    remote_notes::tombstone(&txn, RemoteNotes::By(actor.id)).await?;
    for row in queries::reactions::given_by(&txn, actor.id).await? {
        queries::reactions::delete(&txn, row.id).await?;
        queries::reactions::bump(&txn, row.post_id, row.kind, -1).await?;
    }
    queries::follows::delete_involving(&txn, actor.id).await?;
    queries::blocks::delete_by(&txn, actor.id).await?;
    queries::actors::mark_deleted(&txn, actor.id, Utc::now()).await?;
    txn.commit().await?;
    tracing::info!(actor = %actor.ap_id, "remote actor deleted");
    Ok(Change::Applied)
}

/// A report (`Flag`) for moderators.
#[derive(Clone, Debug)]
pub struct IncomingReport {
    /// The `Flag` id.
    pub ap_id: String,
    /// The comment, plain text, capped.
    pub content: String,
    /// The object ids it names, capped.
    pub object_ap_ids: Vec<String>,
    /// The local actor it is about, if any.
    pub target_actor_id: Option<i64>,
}

/// Stores a report once per `Flag` id.
#[tracing::instrument(skip_all, fields(report = %report.ap_id, reporter = reporter.id, target = ?report.target_actor_id))]
pub async fn receive_report(
    db: &DatabaseConnection,
    reporter: &actors::Model,
    report: IncomingReport,
) -> AppResult<Change> {
    let objects = serde_json::to_string(&report.object_ap_ids).map_err(AppError::internal)?;
    let txn = crate::db::begin_write(db).await?;
    if queries::reports::exists(&txn, &report.ap_id).await? {
        return Ok(Change::Unchanged);
    }
    let row = NewReport {
        ap_id: report.ap_id,
        reporter_actor_id: reporter.id,
        target_actor_id: report.target_actor_id,
        content: report.content,
        object_ap_ids_json: objects,
    };
    queries::reports::insert(&txn, row, Utc::now()).await?;
    txn.commit().await?;
    tracing::info!(reporter = %reporter.ap_id, "report received");
    Ok(Change::Applied)
}

/// Reports, newest first (for moderators and tests).
pub async fn reports(db: &DatabaseConnection, limit: u64) -> AppResult<Vec<reports::Model>> {
    Ok(queries::reports::newest(db, limit).await?)
}

/// A remote actor blocks a local one: the follows between them end (both ways) and our
/// deliveries from that local actor skip it from now on.
#[tracing::instrument(skip_all, fields(blocker = blocker.id, target = target.id, block = block_ap_id))]
pub async fn receive_block(
    db: &DatabaseConnection,
    blocker: &actors::Model,
    target: &actors::Model,
    block_ap_id: &str,
) -> AppResult<Change> {
    if blocker.local || !target.local {
        return Err(AppError::bad_request("blocks are received from remote actors for local accounts"));
    }
    let txn = crate::db::begin_write(db).await?;
    if queries::blocks::blocks(&txn, blocker.id, target.id).await? {
        return Ok(Change::Unchanged);
    }
    queries::blocks::insert(&txn, blocker.id, target.id, block_ap_id, Utc::now()).await?;
    queries::follows::delete_between(&txn, blocker.id, target.id).await?;
    txn.commit().await?;
    tracing::info!(blocker = %blocker.ap_id, target = %target.ap_id, "block received");
    Ok(Change::Applied)
}

/// The blocker lifts its block (only its own).
#[tracing::instrument(skip_all, fields(blocker = blocker.id, ?which))]
pub async fn receive_unblock(db: &DatabaseConnection, blocker: &actors::Model, which: BlockRef) -> AppResult<Change> {
    let writer = crate::db::writer(db).await?;
    let done = queries::blocks::delete(writer.connection(), blocker.id, which).await?;
    Ok(if done { Change::Applied } else { Change::Unchanged })
}

/// Local accounts that follow (or asked to follow) `actor_id`.
pub async fn local_followers_of(db: &DatabaseConnection, actor_id: i64) -> AppResult<Vec<actors::Model>> {
    Ok(queries::follows::local_followers_of(db, actor_id).await?)
}

/// Records that a remote actor moved to `target` (after the federation wing checked the
/// target's `alsoKnownAs`). Returns false when it was already recorded.
#[tracing::instrument(skip_all, fields(actor = old.id, target = target.id, target_ap_id = %target.ap_id))]
pub async fn record_move(db: &DatabaseConnection, old: &actors::Model, target: &actors::Model) -> AppResult<bool> {
    if old.local || target.local || old.id == target.id {
        return Err(AppError::bad_request("a move is between two remote actors"));
    }
    let writer = crate::db::writer(db).await?;
    Ok(queries::actors::set_moved_to(writer.connection(), old.id, &target.ap_id).await?)
}
