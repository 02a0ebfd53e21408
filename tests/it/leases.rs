//! D3/D4 under a busy host: a delivery that waits for the host's permit longer than its
//! lease must not be sent twice once another worker has taken it over (the known issue
//! "a delivery whose lease expires while it waits for a busy host's permit can be sent
//! twice").
//!
//! Two workers share one database. Worker A leases three deliveries to one shared inbox
//! (lease 3 s, one request per host at a time); the sink takes 2 s per request, so the
//! third delivery waits 4 s: its lease runs out, worker B takes it and sends it. When A
//! finally gets the host, it must notice and drop it. Each activity must arrive once.
//!
//! Connections: a host with a backlog reuses its connection; the last delivery queued for a
//! host asks the peer to close it, so a fan-out does not leave thousands of idle sockets.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode, header::CONNECTION},
    routing::post,
};
use chrono::Utc;
use openhouse::{
    config::Config,
    db::{
        entities::{actors, deliveries},
        queries,
    },
    domain::{ActorKind, Username, Visibility},
    federation::delivery::{expand, worker},
    services::{
        accounts::{self, NewAccount},
        media, posts,
    },
    state::AppState,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{TestDb, eventually, test_database};

type Seen = Arc<Mutex<HashMap<String, usize>>>;

async fn slow_inbox(State(seen): State<Seen>, body: String) -> StatusCode {
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let id = json["id"].as_str().unwrap_or("?").to_owned();
    *seen.lock().unwrap().entry(id).or_default() += 1;
    tokio::time::sleep(Duration::from_secs(2)).await;
    StatusCode::ACCEPTED
}

/// An instance's state without its own workers (tests run their own), and its brand.
async fn bare_instance(tmp: &tempfile::TempDir) -> (AppState, TestDb, actors::Model) {
    let (database_url, db) = test_database(tmp).await;
    let env = HashMap::from([
        ("OPENHOUSE_PUBLIC_URL".to_owned(), "http://127.0.0.9:9".to_owned()),
        ("OPENHOUSE_DATA_DIR".to_owned(), tmp.path().join("data").display().to_string()),
        ("OPENHOUSE_DATABASE_URL".to_owned(), database_url),
        ("OPENHOUSE_ALLOW_PRIVATE_FETCH".to_owned(), "127.0.0.1/32:*".to_owned()),
    ]);
    let config = Config::from_sources("", &env).unwrap();
    let state = openhouse::startup::prepare_state(config).await.unwrap();
    let brand = NewAccount {
        username: Username::parse("acme").unwrap(),
        kind: ActorKind::Brand,
        display_name: "Acme".into(),
        summary: String::new(),
        locked: false,
        fields: vec![],
    };
    let brand = accounts::create(&state.db, &state.urls, brand).await.unwrap();
    (state, db, brand)
}

/// A follower of `brand` on the server at `origin` (`http://127.0.0.1:port`), whose shared
/// inbox is `origin/inbox`.
async fn follower_at(state: &AppState, brand: &actors::Model, origin: &str) {
    let now = Utc::now();
    let follower = queries::actors::upsert_remote(
        &state.db,
        queries::actors::RemoteActorRow {
            shared_inbox_url: Some(format!("{origin}/inbox")),
            discoverable: false,
            now,
            ..queries::actors::RemoteActorRow::person(
                &format!("{origin}/users/fan"),
                "fan",
                origin.trim_start_matches("http://"),
            )
        },
    )
    .await
    .unwrap();
    queries::follows::insert(
        &state.db,
        follower.id,
        brand.id,
        &format!("{origin}/follows/1"),
        openhouse::db::entities::follows::FollowState::Accepted,
        now,
    )
    .await
    .unwrap();
}

/// Publishes `n` updates and expands them: `n` deliveries per follower's inbox, all due now.
async fn publish_updates(state: &AppState, brand: &actors::Model, n: usize) {
    let media_dir = media::media_dir(&state.config.data_dir);
    for i in 0..n {
        let draft = posts::Draft {
            text: format!("Update {i}"),
            content_warning: None,
            visibility: Visibility::Public,
            scheduled_at: None,
            in_reply_to: None,
            mentioned: Vec::new(),
            uploads: Vec::new(),
        };
        posts::publish(&state.db, &state.urls, &media_dir, brand, draft).await.unwrap();
    }
    assert_eq!(expand::expand_pending(&state.federation).await.unwrap(), n);
}

/// Waits until `n` deliveries are recorded as delivered.
async fn delivered(state: &AppState, n: u64) {
    eventually(60, "every delivery recorded as delivered", || async {
        let done = deliveries::Entity::find()
            .filter(deliveries::Column::State.eq(deliveries::DeliveryState::Delivered))
            .count(&state.db)
            .await
            .unwrap();
        (done == n).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_lease_ran_out_while_waiting_for_its_host_is_not_sent_twice() {
    let seen: Seen = Arc::default();
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_origin = format!("http://{}", sink.local_addr().unwrap());
    let app = Router::new().route("/inbox", post(slow_inbox)).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(sink, app).await });

    let tmp = tempfile::tempdir().unwrap();
    let (state, _db, brand) = bare_instance(&tmp).await;
    follower_at(&state, &brand, &sink_origin).await;
    // Three posts: three deliveries to the one shared inbox, all due now.
    publish_updates(&state, &brand, 3).await;
    assert_eq!(deliveries::Entity::find().count(&state.db).await.unwrap(), 3);

    let limits =
        worker::DeliveryLimits { global: 8, per_host: 1, lease: chrono::Duration::seconds(3), backoff_scale: 0.01 };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let a = tokio::spawn(worker::run(state.federation.clone(), limits.clone(), stopped.clone()));
    // A leases all three before B exists.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = tokio::spawn(worker::run(state.federation.clone(), limits, stopped));

    delivered(&state, 3).await;
    // A duplicate would come from A after B's send: give it time to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(true);
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "three activities arrived: {seen:?}");
    assert!(seen.values().all(|n| *n == 1), "each activity arrived exactly once: {seen:?}");
}

/// What one request to a recording inbox looked like: the client's port (its connection)
/// and its `Connection` header.
type Requests = Arc<Mutex<Vec<(u16, Option<String>)>>>;

async fn recording_inbox(
    State(requests): State<Requests>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> StatusCode {
    let connection = headers.get(CONNECTION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    requests.lock().unwrap().push((peer.port(), connection));
    StatusCode::ACCEPTED
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_keeps_its_connection_while_it_has_a_backlog_and_the_last_delivery_closes_it() {
    // Two inboxes on two servers: one gets three deliveries in a row, the other the same three.
    let tmp = tempfile::tempdir().unwrap();
    let (state, _db, brand) = bare_instance(&tmp).await;
    let mut sinks = Vec::new();
    for _ in 0..2 {
        let requests: Requests = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().route("/inbox", post(recording_inbox)).with_state(requests.clone());
        tokio::spawn(
            async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await },
        );
        follower_at(&state, &brand, &origin).await;
        sinks.push(requests);
    }
    publish_updates(&state, &brand, 3).await;

    let limits =
        worker::DeliveryLimits { global: 8, per_host: 1, lease: chrono::Duration::seconds(60), backoff_scale: 0.01 };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker::run(state.federation.clone(), limits, stopped));
    delivered(&state, 6).await;
    let _ = stop.send(true);
    worker.await.unwrap().unwrap();

    for requests in sinks {
        let requests = requests.lock().unwrap().clone();
        let close = Some("close".to_owned());
        assert_eq!(requests.len(), 3, "{requests:?}");
        assert!(requests[..2].iter().all(|(_, c)| *c != close), "more were queued: keep-alive: {requests:?}");
        assert_eq!(requests[1].0, requests[0].0, "the backlog reused the connection: {requests:?}");
        assert_eq!(requests[2].1, close, "the last delivery for the host closes its connection: {requests:?}");
    }
}
