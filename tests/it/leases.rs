//! D3/D4 under a busy host: a delivery that waits for the host's permit longer than its
//! lease must not be sent twice once another worker has taken it over (the known issue
//! "a delivery whose lease expires while it waits for a busy host's permit can be sent
//! twice").
//!
//! Two workers share one database. Worker A leases three deliveries to one shared inbox
//! (lease 3 s, one request per host at a time); the sink takes 2 s per request, so the
//! third delivery waits 4 s: its lease runs out, worker B takes it and sends it. When A
//! finally gets the host, it must notice and drop it. Each activity must arrive once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, http::StatusCode, routing::post};
use chrono::Utc;
use openhouse::{
    config::Config,
    db::{entities::deliveries, queries},
    domain::{ActorKind, Username, Visibility},
    federation::delivery::{expand, worker},
    services::{
        accounts::{self, NewAccount},
        media, posts,
    },
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{eventually, test_database};

type Seen = Arc<Mutex<HashMap<String, usize>>>;

async fn slow_inbox(State(seen): State<Seen>, body: String) -> StatusCode {
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let id = json["id"].as_str().unwrap_or("?").to_owned();
    *seen.lock().unwrap().entry(id).or_default() += 1;
    tokio::time::sleep(Duration::from_secs(2)).await;
    StatusCode::ACCEPTED
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_lease_ran_out_while_waiting_for_its_host_is_not_sent_twice() {
    let seen: Seen = Arc::default();
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_origin = format!("http://{}", sink.local_addr().unwrap());
    let app = Router::new().route("/inbox", post(slow_inbox)).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(sink, app).await });

    // The instance's state, without its own workers: the test runs two of them.
    let tmp = tempfile::tempdir().unwrap();
    let (database_url, _db) = test_database(&tmp).await;
    let env = HashMap::from([
        ("OPENHOUSE_PUBLIC_URL".to_owned(), "http://127.0.0.9:9".to_owned()),
        ("OPENHOUSE_DATA_DIR".to_owned(), tmp.path().join("data").display().to_string()),
        ("OPENHOUSE_DATABASE_URL".to_owned(), database_url),
        ("OPENHOUSE_ALLOW_PRIVATE_FETCH".to_owned(), "127.0.0.1/32:*".to_owned()),
    ]);
    let config = Config::from_sources("", &env).unwrap();
    let state = openhouse::startup::prepare_state(config).await.unwrap();
    let db = &state.db;
    let brand = NewAccount {
        username: Username::parse("acme").unwrap(),
        kind: ActorKind::Brand,
        display_name: "Acme".into(),
        summary: String::new(),
        locked: false,
        fields: vec![],
    };
    let brand = accounts::create(db, &state.urls, brand).await.unwrap();
    let now = Utc::now();
    let follower = queries::actors::upsert_remote(
        db,
        queries::actors::RemoteActorRow {
            ap_id: format!("{sink_origin}/users/fan"),
            ap_type: "Person".into(),
            username: "fan".into(),
            domain: sink_origin.trim_start_matches("http://").to_owned(),
            display_name: String::new(),
            summary_html: String::new(),
            inbox_url: format!("{sink_origin}/users/fan/inbox"),
            shared_inbox_url: Some(format!("{sink_origin}/inbox")),
            outbox_url: None,
            followers_url: None,
            profile_url: None,
            icon_url: None,
            image_url: None,
            public_key_pem: String::new(),
            public_key_id: format!("{sink_origin}/users/fan#main-key"),
            manually_approves_followers: false,
            discoverable: false,
            now,
        },
    )
    .await
    .unwrap();
    queries::follows::insert(db, follower.id, brand.id, &format!("{sink_origin}/follows/1"), "accepted", now)
        .await
        .unwrap();

    // Three posts: three deliveries to the one shared inbox, all due now.
    let media_dir = media::media_dir(&state.config.data_dir);
    for n in 0..3 {
        let draft = posts::Draft {
            text: format!("Update {n}"),
            content_warning: None,
            visibility: Visibility::Public,
            scheduled_at: None,
            in_reply_to: None,
        };
        posts::publish(db, &state.urls, &media_dir, &brand, draft, &[], Vec::new()).await.unwrap();
    }
    assert_eq!(expand::expand_pending(&state.federation).await.unwrap(), 3);
    assert_eq!(deliveries::Entity::find().count(db).await.unwrap(), 3);

    let limits =
        worker::DeliveryLimits { global: 8, per_host: 1, lease: chrono::Duration::seconds(3), backoff_scale: 0.01 };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let a = tokio::spawn(worker::run(state.federation.clone(), limits.clone(), stopped.clone()));
    // A leases all three before B exists.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = tokio::spawn(worker::run(state.federation.clone(), limits, stopped));

    eventually(60, "every delivery recorded as delivered", || async {
        let done =
            deliveries::Entity::find().filter(deliveries::Column::State.eq(worker::DELIVERED)).count(db).await.unwrap();
        (done == 3).then_some(())
    })
    .await;
    // A duplicate would come from A after B's send: give it time to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(true);
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "three activities arrived: {seen:?}");
    assert!(seen.values().all(|n| *n == 1), "each activity arrived exactly once: {seen:?}");
}
