//! SQLite's write path: checkpoints run in the background, outside the writers' turn, and
//! the WAL is started over so that it stays short (`db::checkpoint`); write transactions
//! run on one writer connection of their own (`db::write_turn`); and no connection maps the
//! file into memory (`db::connect`). SQLite only: these tests return at once on PostgreSQL.

use std::{collections::HashMap, path::Path};

use openhouse::{
    config::Config,
    db::{self, checkpoint},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::support::{Options, TestApp, eventually};

const PAGE: u64 = 4096;

/// A SQLite pool opened as the server opens it, with no background task running.
async fn sqlite_pool(dir: &Path) -> Option<DatabaseConnection> {
    if std::env::var("OPENHOUSE_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        return None;
    }
    let env = HashMap::from([
        ("OPENHOUSE_DATA_DIR".to_owned(), dir.join("data").display().to_string()),
        ("OPENHOUSE_DATABASE_URL".to_owned(), format!("sqlite://{}?mode=rwc", dir.join("wal.sqlite").display())),
    ]);
    let config = Config::from_sources("", &env).unwrap();
    let pool = db::connect(&config).await.unwrap();
    pool.execute_unprepared("CREATE TABLE probe (id INTEGER PRIMARY KEY, body BLOB NOT NULL)").await.unwrap();
    Some(pool)
}

/// Writes `pages` pages or so of rows in one write transaction, taking the write turn.
async fn write_pages(db: &DatabaseConnection, pages: u64) {
    let txn = db::begin_write(db).await.unwrap();
    for _ in 0..pages {
        txn.execute_raw(Statement::from_string(DbBackend::Sqlite, "INSERT INTO probe (body) VALUES (zeroblob(3900))"))
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

fn wal_bytes(db_file: &Path) -> u64 {
    let mut wal = db_file.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

async fn rows(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT count(*) FROM probe"))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// Checkpoint rounds running beside a busy writer keep the WAL within a few times
/// [`checkpoint::RESTART_PAGES`] while eight times as many pages are written: a pass outside
/// the turn cannot finish while commits keep coming, the pass inside it can. Without rounds
/// the WAL holds every page (SQLite's own checkpoint waits for
/// [`checkpoint::FALLBACK_PAGES`]). Nothing written is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_rounds_keep_the_wal_short_beside_a_busy_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(with_rounds) = sqlite_pool(&tmp.path().join("a")).await else { return };
    let without = sqlite_pool(&tmp.path().join("b")).await.unwrap();
    let autocheckpoint: i64 = with_rounds
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_autocheckpoint"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(autocheckpoint, i64::from(checkpoint::FALLBACK_PAGES));

    let per_commit = 40;
    let total = 8 * checkpoint::RESTART_PAGES.unsigned_abs();
    let writer = {
        let a = with_rounds.clone();
        // A commit every few milliseconds, as a busy server makes them. Back to back, the
        // writer put down about 16,000 pages a second, so a single checkpoint pass held up
        // by one slow fsync (100–150 ms seen on this kind of machine) let it write past the
        // bound before the round could take its turn: the test measured the disk, not the
        // rounds, and failed about one run in two.
        tokio::spawn(async move {
            for _ in 0..total / per_commit {
                write_pages(&a, per_commit).await;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    let mut largest = 0;
    while !writer.is_finished() {
        checkpoint::round(&with_rounds).await.unwrap();
        largest = largest.max(wal_bytes(&tmp.path().join("a/wal.sqlite")));
    }
    writer.await.unwrap();
    for _ in 0..total / per_commit {
        write_pages(&without, per_commit).await;
    }
    let long = wal_bytes(&tmp.path().join("b/wal.sqlite"));
    // A round restarts the WAL once it passes RESTART_PAGES; what the writer commits while
    // the round waits for its turn, or to be scheduled at all on a loaded machine, comes on
    // top (twice RESTART_PAGES was seen exceeded with two busy cores beside the test). Half
    // of what the WAL reaches without rounds still tells the two apart.
    let bound = 4 * checkpoint::RESTART_PAGES.unsigned_abs() * (PAGE + 24);
    assert!(largest <= bound, "WAL of {largest} bytes with checkpoint rounds (at most {bound} expected)");
    assert!(long >= total * PAGE, "WAL of {long} bytes without rounds: SQLite checkpointed early");
    assert_eq!(rows(&with_rounds).await, i64::try_from(total).unwrap());
    assert_eq!(rows(&without).await, i64::try_from(total).unwrap());
}

/// A running server (here `serve --no-workers`, which still runs the checkpointer) copies
/// the WAL back and starts it over by itself: once it has, more commits reuse the file
/// instead of growing it. Without the task, every commit below would grow the WAL (the
/// backstop is 10,000 pages away).
#[tokio::test]
async fn a_running_server_starts_its_wal_over_by_itself() {
    let app = TestApp::spawn_with(Options { no_workers: true, ..Options::default() }).await;
    let db = &app.state.db;
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let file = db.get_sqlite_connection_pool().connect_options().get_filename().to_path_buf();
    db.execute_unprepared("CREATE TABLE probe (id INTEGER PRIMARY KEY, body BLOB NOT NULL)").await.unwrap();
    let first = checkpoint::RESTART_PAGES.unsigned_abs() + 500;
    write_pages(db, first).await;
    let more = std::sync::atomic::AtomicU64::new(0);
    eventually(20, "a commit that does not grow the WAL", || async {
        let before = wal_bytes(&file);
        write_pages(db, 5).await;
        more.fetch_add(5, std::sync::atomic::Ordering::Relaxed);
        (wal_bytes(&file) == before).then_some(())
    })
    .await;
    let written = first + more.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(rows(db).await, i64::try_from(written).unwrap());
}

/// Writes that take the write turn run on the file's one writer connection, outside the
/// pool (`db::write_turn`): a temporary table (private to a connection) made in one write
/// transaction is there in the next, and a write goes through while every pooled connection
/// is taken by readers.
#[tokio::test]
async fn write_transactions_share_one_connection_outside_the_pool() {
    use sea_orm::TransactionTrait;

    let tmp = tempfile::tempdir().unwrap();
    let Some(db) = sqlite_pool(tmp.path()).await else { return };
    let first = db::begin_write(&db).await.unwrap();
    first.execute_unprepared("CREATE TEMP TABLE mine (x INTEGER)").await.unwrap();
    first.commit().await.unwrap();
    let mut readers = Vec::new();
    for _ in 0..db.get_sqlite_connection_pool().options().get_max_connections() {
        readers.push(db.begin().await.unwrap());
    }
    let second = tokio::time::timeout(std::time::Duration::from_secs(5), db::begin_write(&db))
        .await
        .expect("the write waited for a pooled connection")
        .unwrap();
    second.execute_unprepared("INSERT INTO mine (x) VALUES (1)").await.unwrap();
    second.commit().await.unwrap();
    // A statement outside a transaction (`db::writer`) writes on that same connection.
    let writer = tokio::time::timeout(std::time::Duration::from_secs(5), db::writer(&db))
        .await
        .expect("the writer waited for a pooled connection")
        .unwrap();
    writer.connection().execute_unprepared("INSERT INTO mine (x) VALUES (2)").await.unwrap();
    drop(writer);
    drop(readers);
}

/// Every turn is counted against the line that asked for it (`db::turn_stats_by_site`),
/// whichever of the three ways took it: B2 prints where the write lock's time goes.
#[tokio::test]
async fn turns_are_counted_by_the_line_that_took_them() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(db) = sqlite_pool(tmp.path()).await else { return };
    let here = |line: u32| format!("{}:{line}", file!());
    let before = db::turn_stats();
    let (txn_line, writer_line, turn_line) = (line!() + 1, line!() + 3, line!() + 5);
    let txn = db::begin_write(&db).await.unwrap();
    txn.commit().await.unwrap();
    let writer = db::writer(&db).await.unwrap();
    drop(writer);
    let turn = db::write_turn(&db).await.unwrap();
    // Holding the turn for 20 ms is what is measured below, not a wait for something else.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    drop(turn);
    let sites = db::turn_stats_by_site();
    for line in [txn_line, writer_line, turn_line] {
        let site = sites.iter().find(|s| s.site == here(line));
        assert_eq!(site.map(|s| s.turns), Some(1), "line {line} in {sites:?}");
    }
    let held = sites.iter().find(|s| s.site == here(turn_line)).map(|s| s.held).unwrap_or_default();
    assert!(held >= std::time::Duration::from_millis(20), "the turn held for 20 ms counted {held:?}");
    // The process's totals are the sums over the sites (other tests may add their own).
    let after = db::turn_stats();
    assert!(after.turns >= before.turns + 3, "{before:?} → {after:?}");
    assert!(after.held >= before.held + std::time::Duration::from_millis(20), "{before:?} → {after:?}");
}

/// Neither the pooled connections nor the writer connection map the database file: mapped
/// pages count in the process's RSS, and a fan-out that reads 100,000 followers mapped about
/// 70 MB of them (B1, docs/performance.md), against a budget of +50 MB for the whole run.
#[tokio::test]
async fn connections_read_pages_without_mapping_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(pool) = sqlite_pool(tmp.path()).await else { return };
    let mmap_size = |row: Option<sea_orm::QueryResult>| row.unwrap().try_get_by_index::<i64>(0).unwrap();
    let pragma = || Statement::from_string(DbBackend::Sqlite, "PRAGMA mmap_size");
    assert_eq!(mmap_size(pool.query_one_raw(pragma()).await.unwrap()), 0, "a pooled connection maps the file");
    let txn = db::begin_write(&pool).await.unwrap();
    assert_eq!(mmap_size(txn.query_one_raw(pragma()).await.unwrap()), 0, "the writer connection maps the file");
    txn.commit().await.unwrap();
}
