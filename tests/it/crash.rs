//! Crash safety of delivery (FEDERATION.md D1–D7): an update published with the CLI fans
//! out to 1,000 followers on 100 hosts (loopback sinks: some that do not answer until the
//! first worker is dead, some failing with 500 before recovering, one answering 410); the
//! worker process is killed with SIGKILL mid-fan-out (while requests are held open by the
//! slow hosts, so the kill cannot land after the fan-out) and restarted.
//! Every live inbox must receive the activity at least once, the 410 host must get no
//! retries, and nothing may be left pending or leased.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use chrono::Utc;
use openhouse::db::{entities::deliveries, queries};
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::sync::watch;

use crate::support::{TestDb, eventually, test_database};

const HOSTS: usize = 100;
const FOLLOWERS: usize = 1000;
const GONE_HOST: usize = 20;

#[derive(Clone, Copy)]
enum Behaviour {
    Fast,
    /// Holds every request until the gate opens (once the first worker is killed).
    Slow,
    /// Answers its first three requests with 500, then recovers.
    FailThenRecover,
    Gone,
}

#[derive(Clone)]
struct Sink {
    behaviour: Behaviour,
    /// Opened once the first worker is dead; slow hosts answer only after it.
    gate: Arc<watch::Sender<bool>>,
    /// Requests seen per path, with whether they were signed.
    seen: Arc<Mutex<HashMap<String, (usize, bool)>>>,
}

async fn receive(State(sink): State<Sink>, uri: axum::http::Uri, headers: HeaderMap, body: String) -> StatusCode {
    let signed = headers.contains_key("signature")
        && headers.contains_key("digest")
        && body.contains("\"Create\"")
        && body.contains("v2 is out");
    // Requests to the whole host so far: a failing host fails for every path, then recovers.
    let count = {
        let mut seen = sink.seen.lock().unwrap();
        let entry = seen.entry(uri.path().to_owned()).or_insert((0, true));
        entry.0 += 1;
        entry.1 &= signed;
        seen.values().map(|(n, _)| n).sum::<usize>()
    };
    match sink.behaviour {
        Behaviour::Fast => StatusCode::ACCEPTED,
        Behaviour::Slow => {
            let _ = sink.gate.subscribe().wait_for(|open| *open).await;
            StatusCode::ACCEPTED
        }
        Behaviour::FailThenRecover if count <= 3 => StatusCode::INTERNAL_SERVER_ERROR,
        Behaviour::FailThenRecover => StatusCode::ACCEPTED,
        Behaviour::Gone => StatusCode::GONE,
    }
}

async fn start_sink(behaviour: Behaviour, gate: Arc<watch::Sender<bool>>) -> (u16, Sink) {
    let sink = Sink { behaviour, gate, seen: Arc::default() };
    let app = Router::new()
        .route("/inbox", post(receive))
        .route("/users/{name}/inbox", post(receive))
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, sink)
}

fn behaviour_of(host: usize) -> Behaviour {
    match host {
        GONE_HOST => Behaviour::Gone,
        0..=9 => Behaviour::Slow,
        10..=19 => Behaviour::FailThenRecover,
        _ => Behaviour::Fast,
    }
}

fn worker(tmp: &tempfile::TempDir, database_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_openhouse"))
        .arg("worker")
        .current_dir(tmp.path())
        .env_remove("OPENHOUSE_CONFIG")
        .env("OPENHOUSE_DATA_DIR", tmp.path().join("data"))
        .env("OPENHOUSE_DATABASE_URL", database_url)
        .env("OPENHOUSE_PUBLIC_URL", "http://127.0.0.9:9")
        .env("OPENHOUSE_ALLOW_PRIVATE_FETCH", "127.0.0.1/32:*")
        .env("OPENHOUSE_DELIVERY_CONCURRENCY", "16")
        .env("OPENHOUSE_DELIVERY_LEASE_SECONDS", "2")
        .env("OPENHOUSE_DELIVERY_BACKOFF_SCALE", "0.02")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the worker starts")
}

#[tokio::test]
async fn a_killed_worker_loses_no_delivery() {
    let tmp = tempfile::tempdir().unwrap();
    let (database_url, _db): (String, TestDb) = test_database(&tmp).await;

    // The brand, created by the binary (which also migrates).
    let created = Command::new(env!("CARGO_BIN_EXE_openhouse"))
        .args(["actor", "create", "acme", "--kind", "brand", "--name", "Acme"])
        .current_dir(tmp.path())
        .env("OPENHOUSE_DATA_DIR", tmp.path().join("data"))
        .env("OPENHOUSE_DATABASE_URL", &database_url)
        .env("OPENHOUSE_PUBLIC_URL", "http://127.0.0.9:9")
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    // 100 sink hosts; even hosts have a shared inbox (one delivery for all their followers).
    let gate = Arc::new(watch::channel(false).0);
    let mut sinks = Vec::new();
    for host in 0..HOSTS {
        sinks.push(start_sink(behaviour_of(host), gate.clone()).await);
    }
    let db = Database::connect(&database_url).await.unwrap();
    let brand = queries::actors::find_local_by_username(&db, "acme").await.unwrap().unwrap();
    let now = Utc::now();
    for i in 0..FOLLOWERS {
        let host = i % HOSTS;
        let origin = format!("http://127.0.0.1:{}", sinks[host].0);
        let follower = queries::actors::upsert_remote(
            &db,
            queries::actors::RemoteActorRow {
                shared_inbox_url: host.is_multiple_of(2).then(|| format!("{origin}/inbox")),
                discoverable: false,
                now,
                ..queries::actors::RemoteActorRow::person(
                    &format!("{origin}/users/u{i}"),
                    &format!("u{i}"),
                    &format!("127.0.0.1:{}", sinks[host].0),
                )
            },
        )
        .await
        .unwrap();
        queries::follows::insert(
            &db,
            follower.id,
            brand.id,
            &format!("{origin}/follows/{i}"),
            openhouse::db::entities::follows::FollowState::Accepted,
            now,
        )
        .await
        .unwrap();
    }

    // The update, published as a release pipeline would: the CLI records it; the worker
    // expands it into deliveries and sends them.
    std::fs::write(tmp.path().join("update.md"), "**v2 is out.** Thanks to everyone who tested it.").unwrap();
    let published = Command::new(env!("CARGO_BIN_EXE_openhouse"))
        .args(["publish", "--actor", "acme", "--file", "update.md"])
        .current_dir(tmp.path())
        .env("OPENHOUSE_DATA_DIR", tmp.path().join("data"))
        .env("OPENHOUSE_DATABASE_URL", &database_url)
        .env("OPENHOUSE_PUBLIC_URL", "http://127.0.0.9:9")
        .output()
        .unwrap();
    assert!(published.status.success(), "{}", String::from_utf8_lossy(&published.stderr));
    let expected = HOSTS / 2 + (HOSTS / 2) * (FOLLOWERS / HOSTS);

    let received = |sinks: &[(u16, Sink)]| -> usize {
        sinks.iter().map(|(_, s)| s.seen.lock().unwrap().values().map(|(n, _)| *n).sum::<usize>()).sum()
    };

    // Kill the worker with SIGKILL part-way through.
    // It is killed once part of the fan-out has arrived and a slow host holds a request
    // (which cannot have been recorded as delivered).
    let mut first = worker(&tmp, &database_url);
    eventually(60, "a first part of the fan-out, and a request held by a slow host", || async {
        let slow = sinks.iter().enumerate().filter(|(host, _)| matches!(behaviour_of(*host), Behaviour::Slow));
        let held: usize = slow.map(|(_, (_, s))| s.seen.lock().unwrap().values().map(|(n, _)| *n).sum::<usize>()).sum();
        (received(&sinks) >= 50 && held >= 1).then_some(())
    })
    .await;
    Command::new("kill").args(["-KILL", &first.id().to_string()]).status().unwrap();
    first.wait().unwrap();
    gate.send_replace(true);
    let pending = deliveries::Entity::find().filter(deliveries::Column::State.eq("pending")).count(&db).await.unwrap();
    assert!(pending > 0, "the kill happened mid-fan-out");

    // A new worker finishes the job.
    let mut second = worker(&tmp, &database_url);
    eventually(90, "no delivery left pending", || async {
        let pending =
            deliveries::Entity::find().filter(deliveries::Column::State.eq("pending")).count(&db).await.unwrap();
        (pending == 0).then_some(())
    })
    .await;
    Command::new("kill").args(["-TERM", &second.id().to_string()]).status().unwrap();
    second.wait().unwrap();

    // Every live inbox got it, signed; the 410 host was never retried.
    for (host, (port, sink)) in sinks.iter().enumerate() {
        let seen = sink.seen.lock().unwrap();
        let inboxes: Vec<String> = if host.is_multiple_of(2) {
            vec!["/inbox".to_owned()]
        } else {
            (0..FOLLOWERS).filter(|i| i % HOSTS == host).map(|i| format!("/users/u{i}/inbox")).collect()
        };
        for inbox in inboxes {
            let (count, signed) = seen.get(&inbox).copied().unwrap_or((0, false));
            assert!(count >= 1, "127.0.0.1:{port}{inbox} (host {host}) received nothing");
            assert!(signed, "127.0.0.1:{port}{inbox} received an unsigned request");
            if host == GONE_HOST {
                assert!(count <= 2, "the 410 inbox was retried: {count} requests");
            }
        }
    }
    let rows = deliveries::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), expected, "one delivery per distinct inbox");
    assert!(rows.iter().all(|r| r.lease_until.is_none()), "no lease left behind");
    let gone: Vec<_> = rows.iter().filter(|r| r.last_status == Some(410)).collect();
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].state, gone[0].attempts), (deliveries::DeliveryState::Failed, 1), "410 is permanent");
    let failed = rows.iter().filter(|r| r.state == deliveries::DeliveryState::Failed).count();
    assert_eq!(failed, 1, "only the 410 inbox failed");
}
