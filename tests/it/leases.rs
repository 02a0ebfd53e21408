//! D3/D4 under a busy host: a delivery that waits for the host's permit longer than its
//! lease must not be sent twice once another worker has taken it over (the known issue
//! "a delivery whose lease expires while it waits for a busy host's permit can be sent
//! twice").
//!
//! Two workers share one database, and the race is forced, not hoped for: worker A leases
//! three deliveries to one shared inbox (one request per host at a time); the inbox holds
//! A's first request until the test lets it go, so the other two wait for the host. Their
//! leases run out (the test ends them), worker B takes them over and sends them; only then
//! is A's first request answered, and A, finally holding the host, must notice the rows are
//! no longer its own and drop them. Each activity must arrive once.
//!
//! Connections: a host with a backlog reuses its connection; the last delivery queued for a
//! host asks the peer to close it, so a fan-out does not leave thousands of idle sockets.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
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
        entities::{activities, actors, deliveries},
        queries,
    },
    domain::{ActorKind, Username},
    federation::delivery::{expand, worker},
    services::{
        accounts::{self, NewAccount},
        media, posts,
    },
    state::AppState,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, sea_query::Expr};
use tokio::sync::watch;

use crate::support::{TestDb, eventually, test_database};

/// How many times each activity (by id) arrived, in the order they arrived.
type Seen = Arc<Mutex<Vec<String>>>;

/// An inbox that records each activity it receives and holds every request until the test
/// opens its gate.
#[derive(Clone)]
struct GatedInbox {
    seen: Seen,
    open: Arc<watch::Sender<bool>>,
}

async fn gated_inbox(State(inbox): State<GatedInbox>, body: String) -> StatusCode {
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    inbox.seen.lock().unwrap().push(json["id"].as_str().unwrap_or("?").to_owned());
    let _ = inbox.open.subscribe().wait_for(|open| *open).await;
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
        let draft = posts::Draft::public(format!("Update {i}"));
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

/// The delivery rows, by id.
async fn rows(state: &AppState) -> Vec<deliveries::Model> {
    deliveries::Entity::find().order_by_asc(deliveries::Column::Id).all(&state.db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_lease_ran_out_while_waiting_for_its_host_is_not_sent_twice() {
    let seen: Seen = Arc::default();
    let open = Arc::new(watch::channel(false).0);
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_origin = format!("http://{}", sink.local_addr().unwrap());
    let inbox = GatedInbox { seen: seen.clone(), open: open.clone() };
    let app = Router::new().route("/inbox", post(gated_inbox)).with_state(inbox);
    tokio::spawn(async move { axum::serve(sink, app).await });

    let tmp = tempfile::tempdir().unwrap();
    let (state, _db, brand) = bare_instance(&tmp).await;
    follower_at(&state, &brand, &sink_origin).await;
    // Three posts: three deliveries to the one shared inbox, all due now.
    publish_updates(&state, &brand, 3).await;
    assert_eq!(deliveries::Entity::find().count(&state.db).await.unwrap(), 3);

    // A's lease is short, so A checks with the database that a row is still its own
    // before it sends (a lease this short could run out during the request).
    let a_limits =
        worker::DeliveryLimits { global: 8, per_host: 1, lease: chrono::Duration::seconds(3), backoff_scale: 0.01 };
    let (stop_a, stopped_a) = watch::channel(false);
    let a = tokio::spawn(worker::run(state.federation.clone(), a_limits, stopped_a));
    // A has leased all three, and is sending the first: the inbox holds it, and the other
    // two wait for the host's one permit.
    let first =
        eventually(30, "A's first request at the inbox", || async { seen.lock().unwrap().first().cloned() }).await;
    let leased = rows(&state).await;
    let a_owner = leased[0].lease_owner.clone().expect("A leased the rows");
    assert!(leased.iter().all(|r| r.lease_owner.as_ref() == Some(&a_owner)), "A leased all three: {leased:?}");
    // A claims nothing more (its stop signal ends its claiming; its three attempts go on).
    stop_a.send(true).unwrap();

    // The first stays A's (B may not take what A is sending: a lease lost mid-request is
    // the at-least-once case, D4, not this one); the other two have waited past their lease.
    let first_activity = activities::Entity::find()
        .filter(activities::Column::ApId.eq(first.as_str()))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now();
    deliveries::Entity::update_many()
        .col_expr(deliveries::Column::NextAttemptAt, Expr::value(now + chrono::Duration::days(1)))
        .filter(deliveries::Column::ActivityId.eq(first_activity.id))
        .exec(&state.db)
        .await
        .unwrap();
    deliveries::Entity::update_many()
        .col_expr(deliveries::Column::LeaseUntil, Expr::value(now - chrono::Duration::seconds(1)))
        .filter(deliveries::Column::ActivityId.ne(first_activity.id))
        .exec(&state.db)
        .await
        .unwrap();

    // B takes the two over and sends one (held too, behind A's first).
    let b_limits =
        worker::DeliveryLimits { global: 8, per_host: 1, lease: chrono::Duration::seconds(60), backoff_scale: 0.01 };
    let (stop_b, stopped_b) = watch::channel(false);
    let b = tokio::spawn(worker::run(state.federation.clone(), b_limits, stopped_b));
    let taken = eventually(30, "B to lease the two A waited with, and send one", || async {
        let taken: Vec<_> = rows(&state)
            .await
            .into_iter()
            .filter(|r| {
                r.activity_id != first_activity.id && r.lease_owner.is_some() && r.lease_owner != Some(a_owner.clone())
            })
            .collect();
        (taken.len() == 2 && seen.lock().unwrap().len() == 2).then_some(taken)
    })
    .await;

    // Now the host answers: A gets its permit back for rows that are no longer its own.
    open.send_replace(true);
    delivered(&state, 3).await;
    // A's run ends once its three attempts have: whatever A was going to send, it has sent.
    a.await.unwrap().unwrap();
    stop_b.send(true).unwrap();
    b.await.unwrap().unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "three requests in all: {seen:?}");
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "each activity arrived exactly once: {seen:?}");
    // The two B sent are the two it took from A.
    let taken_activities: Vec<i64> = taken.iter().map(|r| r.activity_id).collect();
    for id in &seen[1..] {
        let activity =
            activities::Entity::find().filter(activities::Column::ApId.eq(id.as_str())).one(&state.db).await.unwrap();
        assert!(taken_activities.contains(&activity.unwrap().id), "{id} was one of the rows B took over");
    }
    assert!(rows(&state).await.iter().all(|r| r.attempts == 1), "each row was recorded delivered once");
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
