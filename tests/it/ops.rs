//! Health and readiness.

use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz", "*/*").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz", "*/*").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.clone().close().await.unwrap();
    let ready = app.get("/readyz", "*/*").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "unreachable");
    // The process itself is still up.
    assert_eq!(app.get("/healthz", "*/*").await.status(), 200);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/healthz", "/.well-known/nodeinfo", "/static/site.css"] {
        let res = app.get(path, "*/*").await;
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
    }
}

#[tokio::test]
async fn the_sqlite_write_ahead_log_is_checkpointed_beside_the_writers() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    if db.get_database_backend() != DbBackend::Sqlite {
        return; // PostgreSQL has no WAL file of ours to watch.
    }
    let wal = {
        let mut path = db.get_sqlite_connection_pool().connect_options().get_filename().as_os_str().to_owned();
        path.push("-wal");
        std::path::PathBuf::from(path)
    };
    db.execute_unprepared("CREATE TABLE scratch (data BLOB)").await.unwrap();
    // Eight rounds of ~100 pages each: 800 pages stay under SQLite's own threshold (4,000),
    // so without the checkpointer the log would only grow (past 3 MB). With it, the log is
    // copied back between rounds and the next writes start it over.
    let mut largest = 0;
    for _ in 0..8 {
        db.execute_unprepared(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
             INSERT INTO scratch SELECT randomblob(4000) FROM n",
        )
        .await
        .unwrap();
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    }
    assert!(largest > 0, "the database is in WAL mode");
    assert!(largest < 2_000_000, "the log was reused between rounds: it reached {largest} bytes");
}
