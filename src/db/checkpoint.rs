//! SQLite WAL checkpoints, run in the background instead of inside a writer's commit.
//!
//! In WAL mode every commit appends pages to the `-wal` file, and a *checkpoint* copies
//! them back into the database file (two `fsync`s and one write per page). By default
//! SQLite runs it inside the commit that takes the WAL past 1,000 pages: that writer, and
//! every writer queued behind it for the write turn ([`super::write_turn`]), waits for the
//! copy. In B2 that was one commit in a few hundred, milliseconds each, all on the one lock
//! the inbox shares with its worker (docs/perf-log/).
//!
//! Here a task does the copying outside the write turn, which SQLite allows: a `PASSIVE`
//! checkpoint runs beside writers and readers. A checkpoint that overlaps commits cannot
//! copy the pages they add while it runs, and SQLite can only start the WAL over from its
//! beginning once *every* page was copied; so when the WAL has grown past
//! [`RESTART_PAGES`], the task copies the bulk outside the turn, then takes the turn for a
//! second, short pass over the few pages written meanwhile. The next writer then reuses the
//! file from its start, and the WAL stays a few megabytes.
//!
//! SQLite's own checkpoint stays on as a backstop at [`FALLBACK_PAGES`] (set on every
//! connection by [`super::connect`]): if this task is not running (a CLI command) or falls
//! behind, commits checkpoint as before, only later.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::watch;

/// WAL pages after which SQLite itself checkpoints inside a commit (the backstop).
pub const FALLBACK_PAGES: u32 = 10_000;
/// WAL pages after which the task finishes a checkpoint inside the write turn, so that the
/// WAL is started over.
pub const RESTART_PAGES: i64 = 1_000;
/// How often the task copies what was committed since its last pass.
const TICK: Duration = Duration::from_millis(50);

/// What one `PRAGMA wal_checkpoint(PASSIVE)` reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpointed {
    /// Another connection was checkpointing (this pass did nothing).
    pub busy: bool,
    /// Pages in the WAL.
    pub wal_pages: i64,
    /// Of those, pages now copied into the database file.
    pub copied_pages: i64,
}

/// One passive checkpoint on a pooled connection. It waits for no lock; what it cannot
/// copy yet (pages a reader may still need, or committed while it ran) stays for later.
pub async fn checkpoint(db: &DatabaseConnection) -> Result<Checkpointed, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(PASSIVE)"))
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".into()))?;
    Ok(Checkpointed {
        busy: row.try_get_by_index::<i64>(0)? != 0,
        wal_pages: row.try_get_by_index(1)?,
        copied_pages: row.try_get_by_index(2)?,
    })
}

/// One round of the task: copy outside the write turn; if the WAL is long, finish the copy
/// inside the turn so that it can start over. Returns what the last pass reported.
pub async fn round(db: &DatabaseConnection) -> Result<Checkpointed, DbErr> {
    let outside = checkpoint(db).await?;
    // Even a complete pass needs the second one when commits keep coming: the WAL starts
    // over only for a writer that *begins* after a complete checkpoint, which the turn
    // guarantees (with no copying left to do, that pass costs no `fsync`).
    if outside.busy || outside.wal_pages < RESTART_PAGES {
        return Ok(outside);
    }
    let _turn = super::write_turn(db).await?;
    checkpoint(db).await
}

/// Checkpoints `db` every [`TICK`] until `shutdown` turns true. Does nothing on PostgreSQL.
pub async fn run(db: DatabaseConnection, mut shutdown: watch::Receiver<bool>) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    tracing::debug!("WAL checkpointer started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = round(&db).await {
            tracing::warn!(error = %e, "WAL checkpoint failed; SQLite's own checkpoint remains");
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::debug!("WAL checkpointer stopped");
}
