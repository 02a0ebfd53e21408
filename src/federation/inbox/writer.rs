//! Group commit for the inbox (FEDERATION.md I9, I10; docs/adr/0008): one task owns the
//! inbox inserts. Concurrent requests hand it their row and wait; it takes everything that
//! queued up while the previous statement ran and stores it with ONE multi-row
//! `INSERT … ON CONFLICT (ap_id) DO NOTHING RETURNING ap_id`, then answers each request
//! with its own result. A request therefore still answers 202 only after its row is
//! committed, duplicates are still found by the unique `ap_id` (also within one batch),
//! and there is no timer: under light load a batch is one row and nothing waits.
//!
//! Per-request transactions were the ingest bottleneck on SQLite (one writer at a time,
//! every request queueing for the write lock); one statement per batch removes that. On
//! PostgreSQL, which takes concurrent inserts, each request runs the same statement for its
//! own row on a pooled connection: there the single writer measured slower (ADR 0009).

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbBackend, DbErr};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::db::queries;
pub use crate::db::queries::inbox::NewInboxRow;

/// Rows stored by one statement at most.
const MAX_ROWS: usize = 128;
/// Payload bytes stored by one statement at most (bodies may be up to 1 MiB each).
const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Requests that may wait for the writer before senders wait to queue (back-pressure).
const QUEUE: usize = 4096;

/// Whether a row was stored or was already there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Stored now (committed).
    New,
    /// An activity with this id was stored before (or earlier in the same batch).
    Duplicate,
}

struct Pending {
    row: NewInboxRow,
    reply: oneshot::Sender<Result<Inserted, DbErr>>,
}

/// The handle requests use to store their row. Cheap to clone; the writer task stops when
/// the last handle is dropped, after storing everything already handed to it.
#[derive(Clone, Debug)]
pub struct InboxWriter {
    tx: mpsc::Sender<Pending>,
    /// On PostgreSQL each request inserts on its own pooled connection (see `insert`).
    direct: Option<(DatabaseConnection, std::sync::Arc<Notify>)>,
}

impl InboxWriter {
    /// Starts the writer task on the current runtime. `stored` is notified after every
    /// batch that stored at least one new row (it wakes the inbox worker).
    pub fn spawn(db: DatabaseConnection, stored: std::sync::Arc<Notify>) -> Self {
        let direct = (db.get_database_backend() == DbBackend::Postgres).then(|| (db.clone(), stored.clone()));
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, rx, stored));
        Self { tx, direct }
    }

    /// Stores `row` and returns once it is committed (or was already there).
    ///
    /// On PostgreSQL the row is inserted at once on a pooled connection, with the same
    /// statement: concurrent inserts do not exclude each other there, and in B2 the single
    /// writer was slower than parallel inserts (docs/performance.md). SQLite has one
    /// writer at a time, so there the rows of concurrent requests share one statement.
    pub async fn insert(&self, row: NewInboxRow) -> Result<Inserted, DbErr> {
        if let Some((db, stored)) = &self.direct {
            let (reply, _unused) = oneshot::channel();
            let pending = [Pending { row, reply }];
            let inserted = insert_batch(db, &pending)
                .await?
                .pop()
                .unwrap_or_else(|| Err(DbErr::Custom("no answer for the row".into())))?;
            if inserted == Inserted::New {
                stored.notify_one();
            }
            return Ok(inserted);
        }
        let (reply, answer) = oneshot::channel();
        self.tx.send(Pending { row, reply }).await.map_err(|_| DbErr::Custom("the inbox writer has stopped".into()))?;
        answer.await.map_err(|_| DbErr::Custom("the inbox writer stopped before answering".into()))?
    }
}

async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Pending>, stored: std::sync::Arc<Notify>) {
    let mut queued: Vec<Pending> = Vec::with_capacity(MAX_ROWS);
    // `recv_many` waits for one request, then takes every other one already queued.
    while rx.recv_many(&mut queued, MAX_ROWS).await > 0 {
        let mut batch: Vec<Pending> = Vec::with_capacity(queued.len());
        let mut bytes = 0;
        for pending in queued.drain(..) {
            bytes += pending.row.payload.len();
            batch.push(pending);
            if bytes >= MAX_BYTES {
                write(&db, std::mem::take(&mut batch), &stored).await;
                bytes = 0;
            }
        }
        if !batch.is_empty() {
            write(&db, batch, &stored).await;
        }
    }
}

/// Stores one batch and answers every request in it.
async fn write(db: &DatabaseConnection, batch: Vec<Pending>, stored: &Notify) {
    let answers =
        match insert_batch(db, &batch).await {
            Ok(answers) => answers,
            Err(e) => {
                // One bad row must not fail the others: store them one by one.
                tracing::warn!(error = %e, rows = batch.len(), "inbox batch insert failed; inserting rows one by one");
                let mut answers = Vec::with_capacity(batch.len());
                for pending in &batch {
                    answers.push(insert_batch(db, std::slice::from_ref(pending)).await.and_then(|mut a| {
                        a.pop().unwrap_or_else(|| Err(DbErr::Custom("no answer for the row".into())))
                    }));
                }
                answers
            }
        };
    if answers.iter().any(|a| matches!(a, Ok(Inserted::New))) {
        stored.notify_one();
    }
    for (pending, answer) in batch.into_iter().zip(answers) {
        // The request may have gone away (client disconnected): its row is stored anyway.
        let _ = pending.reply.send(answer);
    }
}

/// One statement for the whole batch; an answer per row, in order.
async fn insert_batch(db: &DatabaseConnection, batch: &[Pending]) -> Result<Vec<Result<Inserted, DbErr>>, DbErr> {
    let mut first_of: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
    for (index, pending) in batch.iter().enumerate() {
        first_of.entry(pending.row.ap_id.as_str()).or_insert(index);
    }
    let firsts = batch.iter().enumerate().filter(|(index, p)| first_of.get(p.row.ap_id.as_str()) == Some(index));
    // The SQL text is built before the write turn: only the statement runs inside it.
    let insert = queries::inbox::insert_new(db.get_database_backend(), firsts.map(|(_, p)| &p.row), Utc::now())?;
    // The turn (a temporary) is released at the end of this statement.
    let new = queries::inbox::run_insert(crate::db::writer(db).await?.connection(), insert).await?;
    Ok(batch
        .iter()
        .enumerate()
        .map(|(index, pending)| {
            let ap_id = pending.row.ap_id.as_str();
            let first = first_of.get(ap_id) == Some(&index);
            Ok(if first && new.contains(ap_id) { Inserted::New } else { Inserted::Duplicate })
        })
        .collect())
}
