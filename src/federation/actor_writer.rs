//! Group commit for storing fetched actors (first contacts), like `inbox::writer` for the
//! inbox: on SQLite one task owns the actor upserts; concurrent callers hand it their row
//! and wait; it stores everything that queued while the previous batch ran in **one**
//! write turn and transaction (one upsert statement per row), then answers each caller
//! after the commit. Why: when many first contacts arrive together (B2 starts with one per
//! remote actor), each took a write turn of its own to store its actor, and their latency
//! became queueing for the turn rather than work.
//! On PostgreSQL each caller upserts on its own pooled connection, as before.

use sea_orm::{DatabaseConnection, DbBackend, DbErr};
use tokio::sync::{mpsc, oneshot};

use crate::db::{
    entities::actors,
    queries::actors::{RemoteActorRow, upsert_remote},
};

/// Rows stored by one transaction at most.
const MAX_ROWS: usize = 64;
/// Callers that may wait for the writer before they wait to queue (back-pressure).
const QUEUE: usize = 1024;

struct Pending {
    row: RemoteActorRow,
    reply: oneshot::Sender<Result<actors::Model, DbErr>>,
}

/// The handle callers store actors through. Cheap to clone; the task stops when the last
/// handle is dropped, after storing what it was handed.
#[derive(Clone, Debug)]
pub struct ActorWriter {
    tx: mpsc::Sender<Pending>,
    /// On PostgreSQL each caller upserts on its own pooled connection.
    direct: Option<DatabaseConnection>,
}

impl ActorWriter {
    /// Starts the writer task on the current runtime.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let direct = (db.get_database_backend() != DbBackend::Sqlite).then(|| db.clone());
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, rx));
        Self { tx, direct }
    }

    /// Inserts or refreshes a remote actor ([`upsert_remote`]) and returns its row once
    /// committed.
    pub async fn upsert(&self, row: RemoteActorRow) -> Result<actors::Model, DbErr> {
        if let Some(db) = &self.direct {
            return upsert_remote(db, row).await;
        }
        let (reply, answer) = oneshot::channel();
        self.tx.send(Pending { row, reply }).await.map_err(|_| DbErr::Custom("the actor writer has stopped".into()))?;
        answer.await.map_err(|_| DbErr::Custom("the actor writer stopped before answering".into()))?
    }
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_ROWS);
    // `recv_many` waits for one caller, then takes every other one already queued.
    while rx.recv_many(&mut batch, MAX_ROWS).await > 0 {
        let (rows, replies): (Vec<RemoteActorRow>, Vec<_>) = batch.drain(..).map(|p| (p.row, p.reply)).unzip();
        match store(&db, rows).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, rows = replies.len(), "storing a batch of actors failed");
                for reply in replies {
                    let _ = reply.send(Err(DbErr::Custom(format!("storing the actor failed: {e}"))));
                }
            }
        }
    }
}

/// One write transaction for the batch: a result per row, in order, valid once this returns
/// `Ok` (the transaction committed). On SQLite a failing statement undoes only itself, so
/// one refused row (a local actor's id) does not fail the others.
async fn store(db: &DatabaseConnection, rows: Vec<RemoteActorRow>) -> Result<Vec<Result<actors::Model, DbErr>>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        results.push(upsert_remote(&txn, row).await);
    }
    txn.commit().await?;
    Ok(results)
}
