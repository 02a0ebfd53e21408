//! A remote author edits or deletes its note: only its own, never creating, stale or
//! repeated changes ignored. A deleted note stays in its thread as a tombstone.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::{
    db::{
        entities::{actors, posts},
        queries::{self, posts::RemoteNotes},
    },
    error::{AppError, AppResult},
    services::Change,
};

/// Posts tombstoned per statement.
const TOMBSTONE_CHUNK: usize = 500;

/// What an `Update{Note}` may change.
#[derive(Clone, Debug)]
pub struct NoteEdit {
    pub content_html: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    pub updated: DateTime<Utc>,
    pub attachments_json: Option<String>,
}

/// A remote author edits its note. Never creates; only the author; a stale edit (older
/// than the stored one) is ignored, so replays change nothing.
#[tracing::instrument(skip_all, fields(ap_id = %ap_id, actor = author.id))]
pub async fn edit_note(
    db: &DatabaseConnection,
    author: &actors::Model,
    ap_id: &str,
    edit: NoteEdit,
) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let Some(post) = queries::posts::find_by_ap_id(&txn, ap_id).await? else { return Ok(Change::Unchanged) };
    check_owner(&post, author)?;
    if post.deleted_at.is_some() || post.edited_at.is_some_and(|at| at >= edit.updated) {
        return Ok(Change::Unchanged);
    }
    if post.published_at.is_some_and(|at| at > edit.updated) {
        return Ok(Change::Unchanged);
    }
    let edit = queries::posts::Edit {
        content_html: edit.content_html,
        summary: edit.summary,
        sensitive: edit.sensitive,
        edited_at: edit.updated,
        attachments_json: edit.attachments_json,
    };
    queries::posts::apply_edit(&txn, post.id, edit, Utc::now()).await?;
    txn.commit().await?;
    Ok(Change::Applied)
}

fn check_owner(post: &posts::Model, author: &actors::Model) -> AppResult<()> {
    if post.local || author.local || post.actor_id != author.id {
        return Err(AppError::forbidden("only a note's author may change it"));
    }
    Ok(())
}

/// A remote author deletes its note: the row stays in the tree as a tombstone (content
/// gone), its inbox rows, mentions and reactions go.
///
/// A note we never stored is remembered as deleted by this author for
/// [`DELETE_REMEMBERED`](super::DELETE_REMEMBERED) (I13): its `Create` may still be on its way, out of order.
#[tracing::instrument(skip_all, fields(ap_id = %ap_id, actor = author.id))]
pub async fn delete_note(db: &DatabaseConnection, author: &actors::Model, ap_id: &str) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let Some(post) = queries::posts::find_by_ap_id(&txn, ap_id).await? else {
        queries::deleted_objects::remember(&txn, ap_id, author.id, Utc::now()).await?;
        txn.commit().await?;
        return Ok(Change::Unchanged);
    };
    check_owner(&post, author)?;
    if post.deleted_at.is_some() {
        return Ok(Change::Unchanged);
    }
    tombstone(&txn, RemoteNotes::Post(post.id)).await?;
    txn.commit().await?;
    Ok(Change::Applied)
}

/// Soft-deletes the remote posts `which` selects, and removes what hangs off them.
pub(crate) async fn tombstone(db: &impl ConnectionTrait, which: RemoteNotes) -> Result<u64, DbErr> {
    let ids = queries::posts::live_remote_ids(db, which).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    for chunk in ids.chunks(TOMBSTONE_CHUNK) {
        queries::posts::tombstone(db, chunk, now).await?;
        queries::conversations::delete_of_posts(db, chunk).await?;
        queries::posts::delete_mentions_of(db, chunk).await?;
        queries::reactions::delete_of_posts(db, chunk).await?;
    }
    Ok(ids.len() as u64)
}
