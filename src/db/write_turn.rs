//! Turns at SQLite's write lock, taken in this process in order, without sleeping.
//!
//! SQLite lets one connection write at a time. A connection that finds the lock taken
//! waits in SQLite's busy handler, which *sleeps* (1, 2, 5, 10, 15, 20, 25… ms) and retries:
//! with the inbox writer and the workers writing at once, B2 showed the process using one
//! of its two cores while requests waited tens of milliseconds. So every write of this
//! process first takes its turn here, an async FIFO lock per database file: the next writer
//! is woken the moment the previous one commits, and SQLite never sees two of our writers
//! at once. Other processes on the same file (a `worker` beside `serve`) still meet at
//! SQLite's own lock and its busy timeout. PostgreSQL has row locks and needs no turn.
//!
//! The registry is process-wide because SQLite's lock is: two pools on one file (tests
//! and benchmarks open several) must share the same turn.

use std::{
    collections::HashMap,
    future::Future,
    panic::Location,
    path::PathBuf,
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{DatabaseConnection, DbBackend, DbErr};
use tokio::sync::OwnedMutexGuard;

/// How long a writer waits for its turn before giving up, as SQLite's busy timeout would.
const WAIT: Duration = Duration::from_secs(5);

/// How long the writer connection stays open without writes (it is opened again on demand).
const WRITER_IDLE: Duration = Duration::from_secs(60);

/// One SQLite file's write lane: the turn, and the connection the turn's holder may write on.
#[derive(Default)]
struct Lane {
    turn: Arc<tokio::sync::Mutex<()>>,
    writer: tokio::sync::OnceCell<DatabaseConnection>,
}

static LANES: LazyLock<Mutex<HashMap<PathBuf, Arc<Lane>>>> = LazyLock::new(Mutex::default);

/// This process's turn to write to `db`'s SQLite file, held until dropped; `None` on
/// PostgreSQL. Take it before the first statement of a write and keep it until the commit.
///
/// The turn comes with the file's *writer connection* ([`WriteTurn::connection`]): one
/// connection, outside `db`'s pool, that the hot writers use (the inbox insert, and every
/// [`super::begin_write`] transaction). In WAL mode a connection empties its page cache
/// whenever *another* connection wrote; writes spread over a pool of 16 therefore re-read and
/// re-allocate their pages at nearly every statement (B2 spent a fifth of its SQLite time in
/// `malloc`/`free`), while the one connection that does the writing keeps its cache, and its
/// prepared statements, warm. Writes take both through [`writer`] or [`super::begin_write`];
/// a write on `db` under a bare turn would be correct, only colder.
///
/// The turn remembers where in the source it was asked for ([`turn_stats_by_site`]).
#[track_caller]
pub fn write_turn(db: &DatabaseConnection) -> impl Future<Output = Result<Option<WriteTurn>, DbErr>> + '_ {
    write_turn_at(db, Location::caller())
}

/// [`write_turn`] for a turn asked for at `site`.
pub(super) async fn write_turn_at(
    db: &DatabaseConnection,
    site: &'static Location<'static>,
) -> Result<Option<WriteTurn>, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let lane = {
        let mut lanes = LANES.lock().map_err(|_| DbErr::Custom("write turns poisoned".into()))?;
        lanes.entry(options.get_filename().to_path_buf()).or_default().clone()
    };
    let asked = Instant::now();
    let guard = match tokio::time::timeout(WAIT, lane.turn.clone().lock_owned()).await {
        Ok(guard) => guard,
        Err(_) => return Err(DbErr::Custom("database is busy: no write turn within 5 s".into())),
    };
    let now = Instant::now();
    WAITED_NS.fetch_add(nanos(now - asked), Ordering::Relaxed);
    let writer = lane.writer.get_or_try_init(|| open_writer(&options)).await?.clone();
    Ok(Some(WriteTurn { _guard: guard, since: now, writer, site }))
}

/// A write outside the transactions of [`super::begin_write`]: this process's turn at the
/// write lock, and the connection to write on while holding it ([`Writer::connection`]: the
/// writer connection on SQLite, `db` itself on PostgreSQL). Writing through it, neither the
/// turn nor the warm connection can be forgotten.
#[track_caller]
pub fn writer(db: &DatabaseConnection) -> impl Future<Output = Result<Writer<'_>, DbErr>> + '_ {
    writer_at(db, Location::caller())
}

/// [`writer`] for a turn asked for at `site`.
pub(super) async fn writer_at<'a>(
    db: &'a DatabaseConnection,
    site: &'static Location<'static>,
) -> Result<Writer<'a>, DbErr> {
    Ok(Writer { turn: write_turn_at(db, site).await?, db })
}

/// The turn and the connection of one write ([`writer`]); the next writer goes when it is
/// dropped.
#[derive(Debug)]
pub struct Writer<'a> {
    turn: Option<WriteTurn>,
    db: &'a DatabaseConnection,
}

impl Writer<'_> {
    /// Where to write while this is held.
    pub fn connection(&self) -> &DatabaseConnection {
        self.turn.as_ref().map_or(self.db, WriteTurn::connection)
    }

    /// The turn alone, for a transaction begun on [`Writer::connection`] to hold until it ends.
    pub fn into_turn(self) -> Option<WriteTurn> {
        self.turn
    }
}

/// A pool of one connection to the same file with the same settings, closed when idle.
async fn open_writer(options: &sea_orm::sqlx::sqlite::SqliteConnectOptions) -> Result<DatabaseConnection, DbErr> {
    let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(WRITER_IDLE)
        .acquire_timeout(WAIT)
        .connect_lazy_with(options.clone());
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// A turn at the write lock (see [`write_turn`]); the next writer goes when it is dropped.
pub struct WriteTurn {
    _guard: OwnedMutexGuard<()>,
    since: Instant,
    writer: DatabaseConnection,
    site: &'static Location<'static>,
}

impl std::fmt::Debug for WriteTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTurn").field("since", &self.since).finish_non_exhaustive()
    }
}

impl WriteTurn {
    /// The file's writer connection: write on it while holding the turn.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.writer
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        let held = nanos(self.since.elapsed());
        let mut sites = sites();
        let site = sites.entry((self.site.file(), self.site.line())).or_default();
        site.0 += 1;
        site.1 = site.1.saturating_add(held);
    }
}

/// Totals over every turn of this process (all files): how busy the write lock was and
/// how long writers queued for it. Benchmarks read them (docs/performance.md, B2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TurnStats {
    /// Turns taken and given back.
    pub turns: u64,
    /// Time turns were held.
    pub held: Duration,
    /// Time writers waited for their turn.
    pub waited: Duration,
}

/// Time writers waited for their turn (the turns and the time held are in [`SITES`]).
static WAITED_NS: AtomicU64 = AtomicU64::new(0);

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Turns and nanoseconds held, by the file and line that asked for the turn: the one record
/// of turns taken ([`turn_stats`] sums it).
static SITES: LazyLock<Mutex<SiteTotals>> = LazyLock::new(Mutex::default);

/// `(file, line)` → (turns, nanoseconds held).
type SiteTotals = HashMap<(&'static str, u32), (u64, u64)>;

fn sites() -> std::sync::MutexGuard<'static, SiteTotals> {
    // Only additions happen under the lock: a panic cannot leave the counts inconsistent.
    SITES.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long the write lock was held from one place in the source ([`turn_stats_by_site`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteStats {
    /// `file:line` of the call that asked for the turn ([`write_turn`], [`writer`] or
    /// [`super::begin_write`]).
    pub site: String,
    /// Turns taken there.
    pub turns: u64,
    /// Time they were held.
    pub held: Duration,
}

/// The totals so far by call site, the longest-held first: which writes keep the write lock
/// busy (docs/performance.md, B2). Cumulative like [`turn_stats`].
pub fn turn_stats_by_site() -> Vec<SiteStats> {
    let mut stats: Vec<SiteStats> = sites()
        .iter()
        .map(|((file, line), (turns, held))| SiteStats {
            site: format!("{file}:{line}"),
            turns: *turns,
            held: Duration::from_nanos(*held),
        })
        .collect();
    stats.sort_by(|a, b| b.held.cmp(&a.held).then_with(|| a.site.cmp(&b.site)));
    stats
}

/// The totals so far (see [`TurnStats`]); subtract two readings to measure a stretch.
pub fn turn_stats() -> TurnStats {
    let (turns, held) =
        sites().values().fold((0u64, 0u64), |(turns, held), (t, h)| (turns + t, held.saturating_add(*h)));
    TurnStats {
        turns,
        held: Duration::from_nanos(held),
        waited: Duration::from_nanos(WAITED_NS.load(Ordering::Relaxed)),
    }
}
