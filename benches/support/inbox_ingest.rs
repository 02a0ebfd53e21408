//! B2, inbox ingest (PERFORMANCE.md): signed activities from many distinct remote actors,
//! sent by concurrent senders to one instance: request → durable 202, then the inbox worker
//! drains what was stored. Shared by `benches/inbox_ingest.rs` (full size) and the smoke
//! test in `tests/it/bench_smoke.rs` (tiny size). Measures and prints; never asserts a time.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use axum::{Json, Router, extract::Path, routing::get};
use openhouse::{
    config::Config,
    crypto::generate_rsa_keys,
    db::entities::inbox_activities,
    domain::{ActorKind, Username},
    federation::signatures::{SigningKey, sign_request},
    services::accounts::{self, NewAccount},
    startup::Application,
};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tokio::net::TcpListener;
use url::Url;

/// Sizes of one run.
pub struct Params {
    pub requests: usize,
    pub actors: usize,
    pub senders: usize,
    /// `None`: a SQLite file in a temp dir; `Some(url)`: a PostgreSQL database URL (empty).
    pub database_url: Option<String>,
}

/// What one run measured.
#[derive(Debug)]
pub struct Report {
    pub requests: usize,
    pub accepted: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub drain_seconds: f64,
    pub processed_per_second: f64,
}

/// Runs B2 once.
pub async fn run(params: Params) -> Report {
    let tmp = tempfile::tempdir().expect("temp dir");
    // The remote server: actor documents for `actors` actors sharing one key pair.
    let keys = generate_rsa_keys().expect("keys");
    let remote = TcpListener::bind("127.0.0.3:0").await.expect("bind remote");
    let remote_origin = format!("http://{}", remote.local_addr().expect("addr"));
    let pem = Arc::new(keys.public_pem.clone());
    let origin = remote_origin.clone();
    let actor_doc = move |Path(name): Path<String>| {
        let pem = pem.clone();
        let origin = origin.clone();
        async move {
            let id = format!("{origin}/users/{name}");
            (
                [(CONTENT_TYPE, "application/activity+json")],
                Json(json!({
                    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                    "id": id, "type": "Person", "preferredUsername": name,
                    "inbox": format!("{id}/inbox"), "endpoints": { "sharedInbox": format!("{origin}/inbox") },
                    "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": *pem }
                })),
            )
        }
    };
    tokio::spawn(async move { axum::serve(remote, Router::new().route("/users/{name}", get(actor_doc))).await });

    // The instance under test.
    let listener = TcpListener::bind("127.0.0.2:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let database_url = params
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", tmp.path().join("bench.sqlite").display()));
    let env = HashMap::from([
        ("OPENHOUSE_PUBLIC_URL".to_owned(), base.clone()),
        ("OPENHOUSE_DATA_DIR".to_owned(), tmp.path().display().to_string()),
        ("OPENHOUSE_DATABASE_URL".to_owned(), database_url),
        ("OPENHOUSE_ALLOW_PRIVATE_FETCH".to_owned(), "127.0.0.3/32:*".to_owned()),
        ("OPENHOUSE_DATABASE_MAX_CONNECTIONS".to_owned(), "16".to_owned()),
    ]);
    let config = Config::from_sources("", &env).expect("config");
    let app = Application::build_on(config, listener).await.expect("app");
    let state = app.state().clone();
    let brand = NewAccount {
        username: Username::parse("acme").expect("name"),
        kind: ActorKind::Brand,
        display_name: "Acme".into(),
        summary: String::new(),
        locked: false,
        fields: vec![],
    };
    let brand = accounts::create(&state.db, &state.urls, brand).await.expect("brand");
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    // Sign every request before the clock starts: the generator's signing is not measured.
    let inbox = Url::parse(&format!("{base}/inbox")).expect("inbox");
    let signers: Vec<SigningKey> = (0..params.actors)
        .map(|i| {
            let key_id = Url::parse(&format!("{remote_origin}/users/u{i}#main-key")).expect("key id");
            SigningKey::from_pkcs8_pem(key_id, &keys.private_pem).expect("signing key")
        })
        .collect();
    let mut requests = Vec::with_capacity(params.requests);
    for n in 0..params.requests {
        let i = n % params.actors;
        let actor = format!("{remote_origin}/users/u{i}");
        let body = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}/statuses/{n}/activity"), "type": "Create", "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": { "id": format!("{actor}/statuses/{n}"), "type": "Note", "attributedTo": actor,
                        "inReplyTo": format!("{}/posts/1", brand.ap_id), "content": format!("<p>reply {n}</p>") }
        })
        .to_string()
        .into_bytes();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
        let signer = signers.get(i).expect("signer");
        sign_request(signer, &reqwest::Method::POST, &inbox, &mut headers, Some(&body), SystemTime::now())
            .expect("sign");
        headers.remove(reqwest::header::HOST);
        requests.push((headers, body));
    }

    // Each actor's key is fetched on its first request and cached after (as B2 defines).
    let client = reqwest::Client::builder().pool_max_idle_per_host(params.senders).build().expect("client");
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..params.senders {
        let queue = queue.clone();
        let client = client.clone();
        let inbox = inbox.clone();
        senders.spawn(async move {
            let mut latencies = Vec::new();
            let mut accepted = 0usize;
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((headers, body)) = next else { break };
                let t = Instant::now();
                let status =
                    client.post(inbox.clone()).headers(headers).body(body).send().await.map(|r| r.status().as_u16());
                latencies.push(t.elapsed());
                if matches!(status, Ok(202)) {
                    accepted += 1;
                }
            }
            (accepted, latencies)
        });
    }
    let mut accepted = 0;
    let mut latencies: Vec<Duration> = Vec::new();
    while let Some(joined) = senders.join_next().await {
        let (a, l) = joined.expect("sender");
        accepted += a;
        latencies.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        let idx = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };

    // Drain: the worker processes everything stored.
    let drain_start = Instant::now();
    let deadline = drain_start + Duration::from_secs(600);
    loop {
        let pending = inbox_activities::Entity::find()
            .filter(inbox_activities::Column::State.eq("pending"))
            .count(&state.db)
            .await
            .expect("count");
        if pending == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_seconds = (drain_start.elapsed().as_secs_f64() + 0.0).max(0.001);
    Report {
        requests: params.requests,
        accepted,
        seconds,
        per_second: accepted as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        drain_seconds,
        processed_per_second: accepted as f64 / (seconds + drain_seconds),
    }
}
