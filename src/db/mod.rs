//! Persistence: connecting, migrating, the entities (one file per table) and the queries
//! (one file per aggregate). Only `services/` and `federation/objects/` call into here.

pub mod checkpoint;
pub mod entities;
pub mod queries;
mod write_turn;

pub use write_turn::{SiteStats, TurnStats, WriteTurn, Writer, turn_stats, turn_stats_by_site, write_turn, writer};

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::{Config, DatabaseEngine};

/// Opens the connection pool. SQLite runs in WAL mode with a busy timeout and foreign keys
/// on; the data directory is created when the default SQLite file lives there.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let url = &config.database_url;
    if url.engine() == DatabaseEngine::Sqlite {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            DbErr::Custom(format!("cannot create the data directory {}: {e}", config.data_dir.display()))
        })?;
    }
    let mut options = ConnectOptions::new(url.expose().to_owned());
    options
        .max_connections(config.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .create_if_missing(true)
                // No memory map: pages are read into each connection's own page cache. A map
                // made every page a fan-out read (100,000 followers) count in the process's
                // RSS, several times B1's memory budget, and reads were no faster with it
                // (docs/perf-log/). This is SQLite's default;
                // it is set so that a build with another default does not change it silently.
                .pragma("mmap_size", "0")
                // Checkpoints run in the background (`checkpoint`); this is the backstop.
                .pragma("wal_autocheckpoint", checkpoint::FALLBACK_PAGES.to_string())
        });
    let db = Database::connect(options).await?;
    db.execute_unprepared("SELECT 1").await?;
    Ok(db)
}

/// Starts a transaction that will write, after taking this process's turn at the write
/// lock ([`write_turn`]). On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction that
/// reads first and then writes fails at once with `SQLITE_BUSY` when another connection
/// wrote in between (the busy timeout cannot help it), while an immediate one waits for
/// the write lock up front. PostgreSQL ignores the option and takes no turn.
#[track_caller]
pub fn begin_write(db: &DatabaseConnection) -> impl std::future::Future<Output = Result<WriteTxn, DbErr>> + '_ {
    begin_write_at(db, std::panic::Location::caller())
}

async fn begin_write_at(
    db: &DatabaseConnection,
    site: &'static std::panic::Location<'static>,
) -> Result<WriteTxn, DbErr> {
    // On SQLite, on the file's writer connection (see `write_turn`).
    let writer = write_turn::writer_at(db, site).await?;
    let txn = writer
        .connection()
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    Ok(WriteTxn { txn, _turn: writer.into_turn() })
}

/// A write transaction ([`begin_write`]): used like sea-orm's, and holding this process's
/// turn at the write lock until it commits, rolls back or is dropped.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<WriteTurn>,
}

impl WriteTxn {
    /// Commits, then lets the next writer go.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls back, then lets the next writer go.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Cheap reachability check for `/readyz` and `openhouse check`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
