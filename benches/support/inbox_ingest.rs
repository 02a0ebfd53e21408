//! B2, inbox ingest (PERFORMANCE.md): signed activities from many distinct remote actors,
//! sent by concurrent senders to one instance: request → durable 202, then the inbox worker
//! drains what was stored: each request is a reply to a real product update, and the worker
//! stores it in that update's thread (ADR 0008), as a reply from Mastodon would be. Shared by `benches/inbox_ingest.rs` (full size) and the smoke
//! test in `tests/it/bench_smoke.rs` (tiny size); the generator parts (actor server,
//! pre-signing, senders) are shared with the baseline in `inbox_ingest_baseline.rs`.
//! Measures and prints; never asserts a time.

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
    db::entities::{inbox_activities, posts},
    domain::{ActorKind, Username},
    federation::signatures::{SigningKey, sign_request},
    services::{
        accounts::{self, NewAccount},
        posts::{self as posts_service, Draft},
    },
    startup::Application,
};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tokio::net::TcpListener;
use url::Url;

/// Sizes of one run.
#[derive(Clone, Debug)]
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
    /// Answered 202.
    pub accepted: usize,
    /// Rows in the inbox table afterwards (distinct activities stored).
    pub stored: usize,
    /// Replies the worker stored in the update's thread (the baseline only stores activities: 0).
    pub threaded: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// p99 without each actor's first request (which includes fetching the actor).
    pub steady_p99_ms: f64,
    /// p50 and p99 of the first requests alone (one per actor: fetch, store, verify).
    pub first_contact_p50_ms: f64,
    pub first_contact_p99_ms: f64,
    /// Time after the sending phase until nothing was pending (0 for the synchronous baseline).
    pub drain_seconds: f64,
    /// Rows processed per second of sending + draining.
    pub processed_per_second: f64,
    /// SQLite's write lock during the sending phase (zeros on PostgreSQL).
    pub write_lock: WriteLock,
}

/// How the process's SQLite write turns (`db::write_turn`) were used while sending.
#[derive(Debug, Default)]
pub struct WriteLock {
    /// Turns taken.
    pub turns: u64,
    /// Share of the phase's wall time some writer held the turn (1.0: always).
    pub busy: f64,
    /// Mean time a writer waited for its turn.
    pub mean_wait_ms: f64,
    /// Where the held time went: each place in the source that took turns, the longest
    /// held first.
    pub sites: Vec<Site>,
}

/// The turns one place in the source took while sending.
#[derive(Debug)]
pub struct Site {
    /// `file:line` that asked for the turns.
    pub site: String,
    pub turns: u64,
    /// Mean time each was held.
    pub mean_hold_ms: f64,
    /// Share of all the time the lock was held.
    pub share: f64,
}

/// The turns taken between two readings of `db::turn_stats_by_site`, by site.
fn sites_between(before: &[openhouse::db::SiteStats], after: &[openhouse::db::SiteStats]) -> Vec<Site> {
    let earlier =
        |site: &str| before.iter().find(|s| s.site == site).map_or((0, Duration::ZERO), |s| (s.turns, s.held));
    let spans: Vec<(String, u64, Duration)> = after
        .iter()
        .map(|s| {
            let (turns, held) = earlier(&s.site);
            (s.site.clone(), s.turns - turns, s.held.saturating_sub(held))
        })
        .filter(|(_, turns, _)| *turns > 0)
        .collect();
    let total: f64 = spans.iter().map(|(_, _, held)| held.as_secs_f64()).sum::<f64>().max(f64::MIN_POSITIVE);
    let mut sites: Vec<Site> = spans
        .into_iter()
        .map(|(site, turns, held)| Site {
            site,
            turns,
            mean_hold_ms: held.as_secs_f64() * 1000.0 / turns as f64,
            share: held.as_secs_f64() / total,
        })
        .collect();
    sites.sort_by(|a, b| b.share.total_cmp(&a.share));
    sites
}

/// Runs B2 once against Openhouse.
pub async fn run(params: Params) -> Report {
    let tmp = tempfile::tempdir().expect("temp dir");
    // The remote server: actor documents for `actors` actors sharing one key pair.
    let keys = generate_rsa_keys().expect("keys");
    let remote_origin = serve_actors("127.0.0.3", None, &keys.public_pem).await;

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
        // The whole load comes from one loopback address: the per-address limit (I11) would
        // turn the benchmark into a test of the limiter. The per-actor limit stays on.
        ("OPENHOUSE_INBOX_RATE_PER_IP".to_owned(), "0".to_owned()),
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
    // The product update every request replies to: the worker stores each reply in its thread.
    let draft = Draft::public("Acme 3.0 beta: tell us what breaks. #beta");
    let update =
        posts_service::publish(&state.db, &state.urls, &tmp.path().join("media"), &brand, draft).await.expect("update");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    // Sign every request before the clock starts: the generator's signing is not measured.
    // Each actor's key is fetched on its first request and cached after (as B2 defines).
    let inbox = Url::parse(&format!("{base}/inbox")).expect("inbox");
    let reply_to = update.ap_id.clone();
    let requests = presign(&params, &remote_origin, &inbox, &reply_to, &keys.private_pem);
    let turns_before = openhouse::db::turn_stats();
    let sites_before = openhouse::db::turn_stats_by_site();
    let sent = send_all(requests, &inbox, params.senders, params.actors).await;
    let turns = openhouse::db::turn_stats();
    let write_lock = WriteLock {
        turns: turns.turns - turns_before.turns,
        busy: (turns.held - turns_before.held).as_secs_f64() / sent.seconds,
        mean_wait_ms: (turns.waited - turns_before.waited).as_secs_f64() * 1000.0
            / (turns.turns - turns_before.turns).max(1) as f64,
        sites: sites_between(&sites_before, &openhouse::db::turn_stats_by_site()),
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
    let drain_seconds = drain_start.elapsed().as_secs_f64().max(0.001);
    let stored = inbox_activities::Entity::find().count(&state.db).await.expect("count");
    let threaded = posts::Entity::find()
        .filter(posts::Column::ThreadRootId.eq(update.id))
        .filter(posts::Column::InReplyToPostId.eq(update.id))
        .count(&state.db)
        .await
        .expect("count");
    let _ = stop.send(());
    let _ = server.await;
    Report {
        requests: params.requests,
        accepted: sent.accepted,
        stored: stored as usize,
        threaded: threaded as usize,
        seconds: sent.seconds,
        per_second: sent.accepted as f64 / sent.seconds,
        p50_ms: sent.percentile_ms(0.50),
        p99_ms: sent.percentile_ms(0.99),
        steady_p99_ms: sent.steady_percentile_ms(0.99),
        first_contact_p50_ms: quantile_ms(&sent.first, 0.5),
        first_contact_p99_ms: quantile_ms(&sent.first, 0.99),
        drain_seconds,
        processed_per_second: sent.accepted as f64 / (sent.seconds + drain_seconds),
        write_lock,
    }
}

/// Serves actor documents at `/users/{name}` (all with the same public key) on `ip`, with
/// ids on `http://{host}:{port}` (`host` defaults to `ip`). Returns that origin.
pub async fn serve_actors(ip: &str, host: Option<&str>, public_pem: &str) -> String {
    let remote = TcpListener::bind(format!("{ip}:0")).await.expect("bind remote");
    let port = remote.local_addr().expect("addr").port();
    let origin = format!("http://{}:{port}", host.unwrap_or(ip));
    let pem = Arc::new(public_pem.to_owned());
    let served = origin.clone();
    let actor_doc = move |Path(name): Path<String>| {
        let pem = pem.clone();
        let origin = served.clone();
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
    origin
}

/// One request, signed and ready to send.
pub type Signed = (HeaderMap, Vec<u8>);

/// Signs `params.requests` `Create{Note}` replies to `reply_to` from actors `u0…` at
/// `remote_origin` for `inbox`, on every core (signing is not what is measured).
pub fn presign(params: &Params, remote_origin: &str, inbox: &Url, reply_to: &str, private_pem: &str) -> Vec<Signed> {
    let signers: Vec<SigningKey> = (0..params.actors)
        .map(|i| {
            let key_id = Url::parse(&format!("{remote_origin}/users/u{i}#main-key")).expect("key id");
            SigningKey::from_pkcs8_pem(key_id, private_pem).expect("signing key")
        })
        .collect();
    let sign = |n: usize| -> Signed {
        let i = n % params.actors;
        let actor = format!("{remote_origin}/users/u{i}");
        let body = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}/statuses/{n}/activity"), "type": "Create", "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": { "id": format!("{actor}/statuses/{n}"), "type": "Note", "attributedTo": actor,
                        "inReplyTo": reply_to, "content": format!("<p>reply {n}</p>") }
        })
        .to_string()
        .into_bytes();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
        let signer = signers.get(i).expect("signer");
        sign_request(signer, &reqwest::Method::POST, inbox, &mut headers, Some(&body), SystemTime::now())
            .expect("sign");
        headers.remove(reqwest::header::HOST);
        (headers, body)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = params.requests.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let sign = &sign;
        let handles: Vec<_> = (0..params.requests)
            .step_by(chunk)
            .map(|from| scope.spawn(move || (from..(from + chunk).min(params.requests)).map(sign).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("signer thread")).collect()
    })
}

/// What the sending phase saw.
pub struct Sent {
    /// Answered 202.
    pub accepted: usize,
    /// Wall time of the whole phase.
    pub seconds: f64,
    /// Request → answer, sorted.
    pub latencies: Vec<Duration>,
    /// The same without each actor's first request (which fetches the actor), sorted.
    pub steady: Vec<Duration>,
    /// Each actor's first request alone, sorted.
    pub first: Vec<Duration>,
}

impl Sent {
    /// The `p` quantile of request → answer latency, in ms.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        quantile_ms(&self.latencies, p)
    }

    /// The `p` quantile without first-contact requests, in ms.
    pub fn steady_percentile_ms(&self, p: f64) -> f64 {
        quantile_ms(&self.steady, p)
    }
}

pub fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Sends every request with `senders` concurrent senders (each waits for its answer before
/// sending the next) and counts the 202s; prints the first refusal each sender saw. Requests
/// go from the last to the first, so with `actors` actors taking turns (`presign`) the
/// first `actors` sent are each actor's first contact.
pub async fn send_all(requests: Vec<Signed>, inbox: &Url, senders: usize, actors: usize) -> Sent {
    let total = requests.len();
    let client = reqwest::Client::builder().pool_max_idle_per_host(senders).build().expect("client");
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..senders {
        let queue = queue.clone();
        let client = client.clone();
        let inbox = inbox.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut steady = Vec::new();
            let mut first = Vec::new();
            let mut accepted = 0usize;
            let mut first_refusal = None;
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop().map(|r| (r, q.len())));
                let Some(((headers, body), n)) = next else { break };
                let t = Instant::now();
                let response = client.post(inbox.clone()).headers(headers).body(body).send().await;
                latencies.push(t.elapsed());
                if n + actors < total {
                    steady.push(t.elapsed());
                } else {
                    first.push(t.elapsed());
                }
                match response {
                    Ok(r) if r.status().as_u16() == 202 => accepted += 1,
                    Ok(r) if first_refusal.is_none() => {
                        first_refusal = Some(format!("{}: {}", r.status(), r.text().await.unwrap_or_default()));
                    }
                    Err(e) if first_refusal.is_none() => first_refusal = Some(e.to_string()),
                    _ => {}
                }
            }
            (accepted, latencies, steady, first, first_refusal)
        });
    }
    let mut accepted = 0;
    let mut latencies: Vec<Duration> = Vec::new();
    let mut steady: Vec<Duration> = Vec::new();
    let mut first: Vec<Duration> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (a, l, st, fi, refusal) = joined.expect("sender");
        steady.extend(st);
        first.extend(fi);
        if let Some(refusal) = refusal {
            eprintln!("B2: a request was refused: {refusal}");
        }
        accepted += a;
        latencies.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    steady.sort();
    first.sort();
    Sent { accepted, seconds, latencies, steady, first }
}
