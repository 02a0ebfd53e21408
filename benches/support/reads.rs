//! B3, reads (PERFORMANCE.md): what peers and browsers fetch most — an actor document, a
//! Note, and an update's page with a 500-reply conversation — each hammered by `connections`
//! concurrent keep-alive connections for `seconds`. Shared by `benches/reads.rs` (full size)
//! and the smoke test in `tests/it/bench_smoke.rs` (tiny size). Measures and prints; never
//! asserts a time.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use openhouse::{
    config::Config,
    db::{
        entities::{actors, posts},
        queries,
    },
    domain::{ActorKind, Username},
    services::{
        accounts::{self, NewAccount},
        posts::{self as post_service, Draft},
    },
    startup::Application,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use tokio::net::TcpListener;

/// Sizes of one run.
pub struct Params {
    /// How long each target is measured.
    pub seconds: f64,
    /// Concurrent connections, each sending its next request when the last one is answered.
    pub connections: usize,
    /// Replies in the measured thread: a third answer the update, the rest answer those.
    pub replies: usize,
    /// `None`: a SQLite file in a temp dir; `Some(url)`: a PostgreSQL database URL (empty).
    pub database_url: Option<String>,
}

/// What one target measured.
#[derive(Debug)]
pub struct Figures {
    pub target: &'static str,
    pub requests: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Bytes of one answer.
    pub body_bytes: usize,
}

/// A stored remote actor: the authors of the replies.
async fn remote_actor(db: &impl ConnectionTrait, i: usize) -> actors::Model {
    let host = format!("peer{}.example", i % 10);
    let ap_id = format!("https://{host}/users/u{i}");
    queries::actors::upsert_remote(
        db,
        queries::actors::RemoteActorRow {
            display_name: format!("User {i}"),
            shared_inbox_url: Some(format!("https://{host}/inbox")),
            profile_url: Some(format!("https://{host}/@u{i}")),
            ..queries::actors::RemoteActorRow::person(&ap_id, &format!("u{i}"), &host)
        },
    )
    .await
    .expect("remote actor")
}

/// Stores `count` remote replies under `root`, as the inbound side stores them (ADR 0008):
/// a third answer the update, each of the others answers one of those.
async fn seed_thread(db: &impl ConnectionTrait, root: &posts::Model, count: usize) {
    let authors: Vec<actors::Model> = {
        let mut v = Vec::new();
        for i in 0..50 {
            v.push(remote_actor(db, i).await);
        }
        v
    };
    let direct = count.div_ceil(3).max(1);
    let mut parents: Vec<posts::Model> = Vec::with_capacity(direct);
    let start = Utc::now() - chrono::Duration::hours(1);
    for n in 0..count {
        let author = &authors[n % authors.len()];
        let parent = if n < direct { root.clone() } else { parents[n % parents.len()].clone() };
        let at = start + chrono::Duration::milliseconds(n as i64);
        let ap_id = format!("{}/statuses/{n}", author.ap_id);
        let row = posts::Entity::insert(posts::ActiveModel {
            ap_id: Set(ap_id.clone()),
            actor_id: Set(author.id),
            local: Set(false),
            content_source: Set(String::new()),
            content_html: Set(format!(
                "<p><span class=\"h-card\"><a href=\"https://x.example/@acme\" class=\"u-url mention\">@acme</a></span> \
                 Reply number {n}: the new export works, but could it keep the column order? Thanks!</p>"
            )),
            summary: Set(None),
            sensitive: Set(false),
            visibility: Set(openhouse::domain::Visibility::Public),
            in_reply_to_ap_id: Set(Some(parent.ap_id.clone())),
            in_reply_to_post_id: Set(Some(parent.id)),
            thread_root_id: Set(Some(root.id)),
            depth: Set(parent.depth + 1),
            url: Set(Some(ap_id)),
            likes_count: Set((n % 7) as i32),
            published_at: Set(Some(at)),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        })
        .exec_with_returning(db)
        .await
        .expect("reply");
        if n < direct {
            parents.push(row);
        }
    }
}

/// Runs B3 once and returns the figures of each target.
pub async fn run(params: Params) -> Vec<Figures> {
    let tmp = tempfile::tempdir().expect("temp dir");
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
        ("OPENHOUSE_DATABASE_MAX_CONNECTIONS".to_owned(), "16".to_owned()),
    ]);
    let config = Config::from_sources("", &env).expect("config");
    let app = Application::build_on(config, listener).await.expect("app");
    let state = app.state().clone();
    let brand = NewAccount {
        username: Username::parse("acme").expect("name"),
        kind: ActorKind::Brand,
        display_name: "Acme".into(),
        summary: "We make things.".into(),
        locked: false,
        fields: vec![],
    };
    let brand = accounts::create(&state.db, &state.urls, brand).await.expect("brand");
    let draft = Draft::public(
        "Acme **3.0** is out: faster exports, a new editor and dark mode. Tell us what you think! #release",
    );
    let media_dir = tmp.path().join("media");
    let update = post_service::publish(&state.db, &state.urls, &media_dir, &brand, draft).await.expect("update");
    seed_thread(&state.db, &update, params.replies).await;
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    let targets: [(&'static str, String, &'static str); 3] = [
        ("actor JSON", brand.ap_id.clone(), "application/activity+json"),
        ("note JSON", update.ap_id.clone(), "application/activity+json"),
        ("thread page (HTML)", update.ap_id.clone(), "text/html"),
    ];
    let client = reqwest::Client::builder().pool_max_idle_per_host(params.connections).build().expect("client");
    let mut out = Vec::new();
    for (target, url, accept) in targets {
        let first = client.get(&url).header("accept", accept).send().await.expect("first request");
        assert!(first.status().is_success(), "{target}: {}", first.status());
        let body_bytes = first.bytes().await.map(|b| b.len()).unwrap_or(0);
        let url = Arc::new(url);
        let until = Instant::now() + Duration::from_secs_f64(params.seconds);
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..params.connections {
            let (client, url) = (client.clone(), url.clone());
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                while Instant::now() < until {
                    let t = Instant::now();
                    let ok = match client.get(url.as_str()).header("accept", accept).send().await {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    latencies.push(t.elapsed());
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies, errors)
            });
        }
        let mut latencies: Vec<Duration> = Vec::new();
        let mut errors = 0;
        while let Some(joined) = tasks.join_next().await {
            let (l, e) = joined.expect("connection");
            latencies.extend(l);
            errors += e;
        }
        let seconds = started.elapsed().as_secs_f64();
        latencies.sort();
        let pct = |p: f64| {
            let idx = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        out.push(Figures {
            target,
            requests: latencies.len(),
            errors,
            per_second: latencies.len() as f64 / seconds,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            body_bytes,
        });
    }
    out
}
