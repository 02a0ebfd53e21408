//! B1 fan-out and B5 growth (PERFORMANCE.md): one post from an actor with F followers on H
//! hosts (one shared inbox per host) is delivered to sink servers on loopback; we time
//! publish → outbox committed → deliveries committed → first 2xx → last 2xx, and RSS. The
//! baseline sends the same activity to the same sinks through activitypub_federation's
//! `SendActivityTask`, spawned the way its in-memory queue spawns workers.
//!
//! Every host is a distinct loopback address `127.a.b.c` on one port, so host count is not
//! limited by ports; sinks run in child processes ("shards", each a few thousand listeners)
//! so that their file descriptors, CPU and memory are not the server's. The smoke test runs
//! the shards in-process. Shared by `benches/fanout.rs` and `tests/it/bench_smoke.rs`.
//! Measures and prints; never asserts a time.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr},
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use activitypub_federation::{
    activity_sending::SendActivityTask,
    config::{Data, FederationConfig},
    traits::{Activity, Actor, Object},
};
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use chrono::Utc;
use openhouse::{
    config::Config,
    db::{
        entities::{activities, actors, deliveries, follows},
        queries,
    },
    domain::{ActorKind, Username},
    federation::signatures::sha256_digest_header,
    services::{
        accounts::{self, NewAccount},
        media, posts,
    },
    startup::Application,
    state::AppState,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, Lines},
    net::TcpListener,
};
use url::Url;

/// Hosts per sink shard (each host is one listening socket).
pub const HOSTS_PER_SHARD: usize = 5_000;

/// Sizes of one invocation.
#[derive(Clone, Debug)]
pub struct Params {
    pub followers: usize,
    pub hosts: usize,
    /// Publishes measured (each: ours, then the baseline).
    pub runs: usize,
    pub baseline: bool,
    /// `None`: SQLite in a temp dir; `Some(url)`: an empty PostgreSQL database.
    pub database_url: Option<String>,
    /// `Some(exe)`: run sink shards as child processes of `exe` (see [`shard_main`]);
    /// `None`: in this process (smoke test).
    pub sink_exe: Option<std::path::PathBuf>,
    /// Port every sink host listens on (0: any, in-process only).
    pub port: u16,
    /// Second octet of the sink addresses (`127.<octet>.x.y`), so runs do not collide.
    pub octet: u8,
    /// Concurrency for both systems (`delivery_concurrency`, and the baseline's worker count).
    pub concurrency: usize,
}

/// One publish, measured.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Publish call → post and outbox event committed.
    pub publish_ms: f64,
    /// Publish call → the activity and its first deliveries committed: workers can start
    /// (the baseline: all tasks queued, as it has no such step).
    pub started_ms: f64,
    /// Publish call → every delivery row committed (the baseline: all tasks queued).
    pub enqueue_ms: f64,
    /// Publish → first 2xx answered by a sink.
    pub first_ms: f64,
    /// Publish → the median delivery's 2xx.
    pub p50_ms: f64,
    /// Publish → last 2xx.
    pub last_ms: f64,
    /// Publish → every delivery recorded as delivered in the database (ours only).
    pub recorded_ms: f64,
    pub delivered: usize,
    /// Requests a sink refused (bad digest or no signature).
    pub bad: usize,
    pub per_second: f64,
    /// VmRSS: everything resident, including file pages the process maps (its binary; before
    /// 2026-12-07 also the SQLite file, through `mmap_size`).
    pub rss_before_mb: f64,
    pub rss_peak_mb: f64,
    /// RssAnon: the process's own (private) memory.
    pub anon_before_mb: f64,
    pub anon_peak_mb: f64,
}

/// Everything measured.
#[derive(Debug, Default)]
pub struct Report {
    pub followers: usize,
    pub hosts: usize,
    pub ours: Vec<Run>,
    pub baseline: Vec<Run>,
    pub seed_seconds: f64,
}

/// The median of a field over runs.
pub fn median(runs: &[Run], f: impl Fn(&Run) -> f64) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(f).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The address of sink host `i`.
pub fn host_ip(octet: u8, i: usize) -> Ipv4Addr {
    let n = i + 1;
    Ipv4Addr::new(127, octet, ((n >> 8) & 0xff) as u8, (n & 0xff) as u8)
}

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn epoch_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

// ---------------------------------------------------------------------------------------
// Sinks

#[derive(Clone, Default)]
struct SinkState {
    arrivals: Arc<Mutex<Vec<u64>>>,
    expected: Arc<AtomicU64>,
    bad: Arc<AtomicU64>,
    reached: Arc<tokio::sync::Notify>,
}

async fn inbox(State(sink): State<SinkState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let digest_ok = headers.get("digest").and_then(|v| v.to_str().ok()) == Some(sha256_digest_header(&body).as_str());
    if !digest_ok || !headers.contains_key("signature") {
        sink.bad.fetch_add(1, Ordering::Relaxed);
        return StatusCode::BAD_REQUEST;
    }
    let now = epoch_ns(SystemTime::now());
    let len = {
        let mut a = sink.arrivals.lock().unwrap();
        a.push(now);
        a.len() as u64
    };
    if len == sink.expected.load(Ordering::Relaxed) {
        sink.reached.notify_one();
    }
    StatusCode::ACCEPTED
}

/// One shard of sinks: binds `addrs`, answers `ready <addr>…`, then for every `expect N`
/// line answers `done <bad> <arrival ns>…` once N deliveries have arrived. Ends at EOF.
pub async fn shard_main<R, W>(addrs: Vec<SocketAddr>, input: R, mut output: W)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let sink = SinkState::default();
    let app = Router::new().route("/inbox", post(inbox)).with_state(sink.clone());
    let mut bound = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = TcpListener::bind(addr).await.unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        bound.push(listener.local_addr().unwrap().to_string());
        let app = app.clone();
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    output.write_all(format!("ready {}\n", bound.join(" ")).as_bytes()).await.unwrap();
    output.flush().await.unwrap();
    let mut lines = BufReader::new(input).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Some(n) = line.strip_prefix("expect ").and_then(|n| n.parse::<u64>().ok()) else { continue };
        sink.arrivals.lock().unwrap().clear();
        sink.bad.store(0, Ordering::Relaxed);
        sink.expected.store(n, Ordering::Relaxed);
        output.write_all(b"armed\n").await.unwrap();
        output.flush().await.unwrap();
        if n > 0 {
            loop {
                if sink.arrivals.lock().unwrap().len() as u64 >= n {
                    break;
                }
                tokio::select! {
                    _ = sink.reached.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
        let arrivals = sink.arrivals.lock().unwrap().clone();
        let mut out = format!("done {}", sink.bad.load(Ordering::Relaxed));
        for a in arrivals {
            out.push(' ');
            out.push_str(&a.to_string());
        }
        out.push('\n');
        output.write_all(out.as_bytes()).await.unwrap();
        output.flush().await.unwrap();
    }
}

type Reader = Lines<BufReader<Pin<Box<dyn AsyncRead + Send>>>>;
/// A shard's stdin and stdout, and its process when it has one.
type Pipes = (Pin<Box<dyn AsyncWrite + Send>>, Pin<Box<dyn AsyncRead + Send>>, Option<tokio::process::Child>);

struct Shard {
    input: Pin<Box<dyn AsyncWrite + Send>>,
    output: Reader,
    hosts: usize,
    _child: Option<tokio::process::Child>,
}

impl Shard {
    async fn start(params: &Params, first: usize, count: usize) -> (Self, Vec<SocketAddr>) {
        let addrs: Vec<SocketAddr> =
            (first..first + count).map(|i| SocketAddr::new(host_ip(params.octet, i).into(), params.port)).collect();
        let (input, output, child): Pipes = match &params.sink_exe {
            Some(exe) => {
                let mut child = tokio::process::Command::new(exe)
                    .env("OPENHOUSE_BENCH_SINK_SHARD", format!("{}:{first}:{count}:{}", params.octet, params.port))
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .expect("sink shard starts");
                let stdin = child.stdin.take().expect("stdin");
                let stdout = child.stdout.take().expect("stdout");
                (Box::pin(stdin), Box::pin(stdout), Some(child))
            }
            None => {
                let (ours, theirs) = tokio::io::duplex(1 << 16);
                let (their_read, their_write) = tokio::io::split(theirs);
                tokio::spawn(shard_main(addrs, their_read, their_write));
                let (our_read, our_write) = tokio::io::split(ours);
                (Box::pin(our_write), Box::pin(our_read), None)
            }
        };
        let mut shard = Shard { input, output: BufReader::new(output).lines(), hosts: count, _child: child };
        let ready = shard.output.next_line().await.expect("shard output").expect("shard ready line");
        let bound =
            ready.strip_prefix("ready ").expect("ready").split(' ').map(|a| a.parse().expect("address")).collect();
        (shard, bound)
    }

    async fn arm(&mut self) {
        self.input.write_all(format!("expect {}\n", self.hosts).as_bytes()).await.expect("arm");
        self.input.flush().await.expect("arm");
        assert_eq!(self.output.next_line().await.expect("armed").as_deref(), Some("armed"));
    }

    /// (bad, arrivals) once every host of the shard got its delivery.
    async fn done(&mut self) -> (usize, Vec<u64>) {
        let line = self.output.next_line().await.expect("done").expect("done line");
        let mut parts = line.strip_prefix("done ").expect("done").split(' ');
        let bad = parts.next().and_then(|b| b.parse().ok()).unwrap_or(0);
        (bad, parts.filter_map(|a| a.parse().ok()).collect())
    }
}

struct Sinks {
    shards: Vec<Shard>,
    /// Bound address of every host, in host order.
    addrs: Vec<SocketAddr>,
}

impl Sinks {
    async fn start(params: &Params) -> Self {
        let mut shards = Vec::new();
        let mut addrs = Vec::with_capacity(params.hosts);
        let mut first = 0;
        while first < params.hosts {
            let count = HOSTS_PER_SHARD.min(params.hosts - first);
            let (shard, bound) = Shard::start(params, first, count).await;
            shards.push(shard);
            addrs.extend(bound);
            first += count;
        }
        Self { shards, addrs }
    }

    async fn arm(&mut self) {
        for s in &mut self.shards {
            s.arm().await;
        }
    }

    /// Waits (up to `limit`) for every host's delivery; (bad, sorted arrivals).
    async fn wait(&mut self, limit: Duration) -> (usize, Vec<u64>) {
        let mut all = Vec::new();
        let mut bad = 0;
        let deadline = Instant::now() + limit;
        for s in &mut self.shards {
            let left = deadline.saturating_duration_since(Instant::now());
            let (b, a) = tokio::time::timeout(left, s.done()).await.expect("every sink got its delivery in time");
            bad += b;
            all.extend(a);
        }
        all.sort_unstable();
        (bad, all)
    }
}

// ---------------------------------------------------------------------------------------
// RSS sampling

struct RssSampler {
    stop: Arc<AtomicBool>,
    /// Peaks of (VmRSS, RssAnon).
    peak: Arc<Mutex<(f64, f64)>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(Mutex::new((rss_mb("VmRSS:"), rss_mb("RssAnon:"))));
        let (s, p) = (stop.clone(), peak.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                Self::sample(&p);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Self { stop, peak, task }
    }

    fn sample(peak: &Mutex<(f64, f64)>) {
        let (rss, anon) = (rss_mb("VmRSS:"), rss_mb("RssAnon:"));
        let mut peak = peak.lock().unwrap();
        *peak = (peak.0.max(rss), peak.1.max(anon));
    }

    /// Peaks of (VmRSS, RssAnon) in MB.
    async fn finish(self) -> (f64, f64) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        Self::sample(&self.peak);
        *self.peak.lock().unwrap()
    }
}

// ---------------------------------------------------------------------------------------
// The instance under test

async fn seed(state: &AppState, brand: &actors::Model, params: &Params, sink_addrs: &[SocketAddr]) {
    let now = Utc::now();
    let mut ids: Vec<i64> = Vec::with_capacity(params.followers);
    let chunk = 1_000;
    let mut j = 0;
    while j < params.followers {
        let end = (j + chunk).min(params.followers);
        let rows: Vec<actors::ActiveModel> = (j..end)
            .map(|k| {
                let host = sink_addrs[k % sink_addrs.len()];
                let origin = format!("http://{host}");
                let id = format!("{origin}/users/u{k}");
                actors::ActiveModel {
                    ap_id: Set(id.clone()),
                    username: Set(format!("u{k}")),
                    domain: Set(host.to_string()),
                    local: Set(false),
                    kind: Set(openhouse::domain::ActorKind::Remote),
                    display_name: Set(format!("Follower {k}")),
                    summary: Set(String::new()),
                    profile_fields: Set("[]".into()),
                    inbox_url: Set(Some(format!("{id}/inbox"))),
                    shared_inbox_url: Set(Some(format!("{origin}/inbox"))),
                    outbox_url: Set(None),
                    followers_url: Set(None),
                    profile_url: Set(None),
                    icon_url: Set(None),
                    image_url: Set(None),
                    public_key_pem: Set(SEED_KEY_PEM.to_owned()),
                    public_key_id: Set(format!("{id}#main-key")),
                    manually_approves_followers: Set(false),
                    discoverable: Set(false),
                    published: Set(now),
                    created_at: Set(now),
                    updated_at: Set(now),
                    last_fetched_at: Set(Some(now)),
                    ap_type: Set(Some("Person".into())),
                    following_url: Set(None),
                    key_refetched_at: Set(None),
                    ..Default::default()
                }
            })
            .collect();
        actors::Entity::insert_many(rows).exec_without_returning(&state.db).await.expect("insert followers");
        j = end;
    }
    let found: Vec<i64> = actors::Entity::find()
        .select_only()
        .column(actors::Column::Id)
        .filter(actors::Column::Local.eq(false))
        .order_by_asc(actors::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await
        .expect("follower ids");
    // Follows arrive over months in no order of their actors: insert them shuffled (a fixed
    // permutation), so that the audience query meets follows scattered as in real tables.
    let stride = (7_919..).find(|s| gcd(*s, found.len().max(1)) == 1).unwrap_or(1);
    ids.extend((0..found.len()).map(|k| found[(k * stride) % found.len()]));
    for (n, part) in ids.chunks(chunk).enumerate() {
        let rows: Vec<follows::ActiveModel> = part
            .iter()
            .enumerate()
            .map(|(m, id)| follows::ActiveModel {
                follower_id: Set(*id),
                followee_id: Set(brand.id),
                state: Set(follows::FollowState::Accepted),
                follow_ap_id: Set(format!("http://follow.test/{}", n * chunk + m)),
                created_at: Set(now),
                accepted_at: Set(Some(now)),
                ..Default::default()
            })
            .collect();
        follows::Entity::insert_many(rows).exec_without_returning(&state.db).await.expect("insert follows");
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A follower's stored public key: the size of a real RSA-2048 key in PEM (451 bytes), so
/// that actor rows are as wide as in a real table (the audience query reads through them).
const SEED_KEY_PEM: &str = concat!(
    "-----BEGIN PUBLIC KEY-----\n",
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAseedseedseedseedseed\n",
    "seedseedseedseedseedseedseedseedseedseedseedseedseedseedseedseed\n",
    "seedseedseedseedseedseedseedseedseedseedseedseedseedseedseedseed\n",
    "seedseedseedseedseedseedseedseedseedseedseedseedseedseedseedseed\n",
    "seedseedseedseedseedseedseedseedseedseedseedseedseedseedseedseed\n",
    "seedseedseedseedseedseedseedseedseedseedseedseedseedseedseedseed\n",
    "sQIDAQAB\n",
    "-----END PUBLIC KEY-----\n",
);

async fn count_deliveries(state: &AppState, activity: i64, delivered_only: bool) -> usize {
    let mut q = deliveries::Entity::find().filter(deliveries::Column::ActivityId.eq(activity));
    if delivered_only {
        q = q.filter(deliveries::Column::State.eq("delivered"));
    }
    q.count(&state.db).await.expect("count") as usize
}

fn figures(t0: SystemTime, arrivals: &[u64], bad: usize) -> Run {
    let t0 = epoch_ns(t0);
    let ms = |ns: Option<&u64>| ns.map_or(0.0, |n| n.saturating_sub(t0) as f64 / 1e6);
    let last_ms = ms(arrivals.last());
    Run {
        first_ms: ms(arrivals.first()),
        p50_ms: ms(arrivals.get(arrivals.len() / 2)),
        last_ms,
        delivered: arrivals.len(),
        bad,
        per_second: if last_ms > 0.0 { arrivals.len() as f64 / (last_ms / 1000.0) } else { 0.0 },
        ..Run::default()
    }
}

async fn run_ours(state: &AppState, brand: &actors::Model, sinks: &mut Sinks, n: usize) -> (Run, i64) {
    sinks.arm().await;
    let media_dir = media::media_dir(&state.config.data_dir);
    let draft = posts::Draft::public(format!(
        "Version {n} of the **Acme Rocket** is out: faster, lighter, and it now folds. #release"
    ));
    let (rss_before, anon_before) = (rss_mb("VmRSS:"), rss_mb("RssAnon:"));
    let sampler = RssSampler::start();
    let wall = SystemTime::now();
    let t0 = Instant::now();
    let post = posts::publish(&state.db, &state.urls, &media_dir, brand, draft).await.expect("publish");
    state.federation.outbox_wakeup.notify_one();
    let publish_ms = t0.elapsed().as_secs_f64() * 1000.0;
    // The activity row appears with its first deliveries in one transaction, the rest of the
    // audience in a second one (`federation::delivery::expand`).
    let create_id = state.urls.post_activity(&brand.username, post.id);
    let activity = loop {
        let found: Option<i64> = activities::Entity::find()
            .select_only()
            .column(activities::Column::Id)
            .filter(activities::Column::ApId.eq(create_id.as_str()))
            .into_tuple()
            .one(&state.db)
            .await
            .expect("activity");
        if let Some(id) = found {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let started_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let expected = sinks.addrs.len();
    let mut rows = count_deliveries(state, activity, false).await;
    while rows < expected {
        tokio::time::sleep(Duration::from_millis(2)).await;
        rows = count_deliveries(state, activity, false).await;
    }
    let enqueue_ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(rows, expected, "one delivery per shared inbox");
    let (bad, arrivals) = sinks.wait(Duration::from_secs(900)).await;
    let mut run = figures(wall, &arrivals, bad);
    while count_deliveries(state, activity, true).await < expected {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    run.recorded_ms = t0.elapsed().as_secs_f64() * 1000.0;
    (run.rss_peak_mb, run.anon_peak_mb) = sampler.finish().await;
    (run.rss_before_mb, run.anon_before_mb) = (rss_before, anon_before);
    run.publish_ms = publish_ms;
    run.started_ms = started_ms;
    run.enqueue_ms = enqueue_ms;
    (run, activity)
}

// ---------------------------------------------------------------------------------------
// The baseline: activitypub_federation's SendActivityTask, queued as its ActivityQueue does

#[derive(Debug, serde::Serialize)]
struct BaselineActivity {
    #[serde(skip)]
    id: Url,
    #[serde(skip)]
    actor: Url,
    #[serde(flatten)]
    body: serde_json::Map<String, serde_json::Value>,
}

#[async_trait::async_trait]
impl Activity for BaselineActivity {
    type DataType = ();
    type Error = activitypub_federation::error::Error;
    fn id(&self) -> &Url {
        &self.id
    }
    fn actor(&self) -> &Url {
        &self.actor
    }
    async fn verify(&self, _: &Data<()>) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn receive(self, _: &Data<()>) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[derive(Debug)]
struct BaselineActor {
    id: Url,
    private_pem: String,
    public_pem: String,
}

#[async_trait::async_trait]
impl Object for BaselineActor {
    type DataType = ();
    type Kind = serde_json::Value;
    type Error = activitypub_federation::error::Error;
    fn id(&self) -> &Url {
        &self.id
    }
    async fn read_from_id(_: Url, _: &Data<()>) -> Result<Option<Self>, Self::Error> {
        Ok(None)
    }
    async fn into_json(self, _: &Data<()>) -> Result<Self::Kind, Self::Error> {
        Ok(serde_json::Value::Null)
    }
    async fn verify(_: &Self::Kind, _: &Url, _: &Data<()>) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn from_json(_: Self::Kind, _: &Data<()>) -> Result<Self, Self::Error> {
        Err(activitypub_federation::error::Error::NotFound)
    }
}

impl Actor for BaselineActor {
    fn public_key_pem(&self) -> &str {
        &self.public_pem
    }
    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_pem.clone())
    }
    fn inbox(&self) -> Url {
        self.id.clone()
    }
}

/// The library needs host names (not address literals): `h127-1-0-5.fanout.test` names
/// 127.1.0.5, and this resolver (standing in for its validating resolver) answers so.
struct NameToLoopback;

impl reqwest::dns::Resolve for NameToLoopback {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let ip = name
            .as_str()
            .strip_prefix('h')
            .and_then(|n| n.strip_suffix(".fanout.test"))
            .and_then(|n| n.replace('-', ".").parse::<Ipv4Addr>().ok())
            .filter(|ip| ip.is_loopback());
        Box::pin(async move {
            match ip {
                Some(ip) => Ok(Box::new(std::iter::once(SocketAddr::new(ip.into(), 0))) as reqwest::dns::Addrs),
                None => Err("not a bench name".into()),
            }
        })
    }
}

async fn baseline_config(concurrency: usize) -> FederationConfig<()> {
    // The library's default client, with the name resolver above instead of its validating one.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .dns_resolver(Arc::new(NameToLoopback))
        .build()
        .expect("client");
    FederationConfig::builder()
        .domain("bench.example")
        .app_data(())
        .client(client.into())
        // Debug mode only lets `prepare` accept http:// and explicit ports; sending is the same.
        .debug(true)
        .queue_worker_count(concurrency)
        .build()
        .await
        .expect("federation config")
}

async fn run_baseline(
    state: &AppState,
    brand: &actors::Model,
    sinks: &mut Sinks,
    activity: i64,
    config: &FederationConfig<()>,
    concurrency: usize,
) -> Run {
    let data = config.to_request_data();
    let row = activities::Entity::find_by_id(activity).one(&state.db).await.expect("activity").expect("stored");
    let body: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row.payload).expect("payload");
    let private_pem = queries::actors::private_key(&state.db, brand.id).await.expect("key").expect("has key");
    let actor = BaselineActor {
        id: Url::parse(&brand.ap_id).expect("actor id"),
        private_pem,
        public_pem: brand.public_key_pem.clone(),
    };
    sinks.arm().await;
    let (rss_before, anon_before) = (rss_mb("VmRSS:"), rss_mb("RssAnon:"));
    let sampler = RssSampler::start();
    let wall = SystemTime::now();
    let t0 = Instant::now();
    // The same audience query ours uses, then host names for the library.
    let inboxes: Vec<Url> = queries::follows::follower_inboxes(&state.db, brand.id)
        .await
        .expect("inboxes")
        .iter()
        .filter_map(|i| {
            let url = Url::parse(i).ok()?;
            let name = format!("h{}.fanout.test", url.host_str()?.replace('.', "-"));
            Url::parse(&format!("http://{name}:{}/inbox", url.port()?)).ok()
        })
        .collect();
    let activity = BaselineActivity { id: row.ap_id.parse().expect("id"), actor: actor.id.clone(), body };
    let tasks = SendActivityTask::prepare(&activity, &actor, inboxes, &data).await.expect("prepare");
    // ActivityQueue: an unbounded channel, and a sender task that spawns one worker per
    // task, at most `worker_count` at once.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SendActivityTask>();
    for task in tasks {
        tx.send(task).expect("queue");
    }
    drop(tx);
    let enqueue_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let sender = tokio::spawn(async move {
        let mut workers = tokio::task::JoinSet::new();
        while let Some(task) = rx.recv().await {
            while workers.len() >= concurrency {
                workers.join_next().await;
            }
            let data = data.reset_request_count();
            workers.spawn(async move { task.sign_and_send(&data).await });
        }
        while workers.join_next().await.is_some() {}
    });
    let (bad, arrivals) = sinks.wait(Duration::from_secs(900)).await;
    let _ = sender.await;
    let mut run = figures(wall, &arrivals, bad);
    (run.rss_peak_mb, run.anon_peak_mb) = sampler.finish().await;
    (run.rss_before_mb, run.anon_before_mb) = (rss_before, anon_before);
    run.started_ms = enqueue_ms;
    run.enqueue_ms = enqueue_ms;
    run
}

// ---------------------------------------------------------------------------------------

/// Runs B1 (and its baseline) `params.runs` times.
pub async fn run(params: Params) -> Report {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut sinks = Sinks::start(&params).await;

    let listener = TcpListener::bind("127.0.0.2:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let database_url = params
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", tmp.path().join("bench.sqlite").display()));
    let mut env = HashMap::from([
        ("OPENHOUSE_PUBLIC_URL".to_owned(), base),
        ("OPENHOUSE_DATA_DIR".to_owned(), tmp.path().display().to_string()),
        ("OPENHOUSE_DATABASE_URL".to_owned(), database_url),
        ("OPENHOUSE_ALLOW_PRIVATE_FETCH".to_owned(), format!("127.{}.0.0/16:*", params.octet)),
        ("OPENHOUSE_DELIVERY_CONCURRENCY".to_owned(), params.concurrency.to_string()),
    ]);
    for (k, v) in std::env::vars() {
        if k.starts_with("OPENHOUSE_DELIVERY_") || k == "OPENHOUSE_DATABASE_MAX_CONNECTIONS" {
            env.insert(k, v);
        }
    }
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
    let seeding = Instant::now();
    seed(&state, &brand, &params, &sinks.addrs).await;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    // Let the workers start before the clock does.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let baseline = if params.baseline { Some(baseline_config(params.concurrency).await) } else { None };
    let mut report = Report { followers: params.followers, hosts: params.hosts, seed_seconds, ..Report::default() };
    for n in 0..params.runs {
        let (ours, activity) = run_ours(&state, &brand, &mut sinks, n).await;
        eprintln!("ours     #{n}: {ours:?}");
        report.ours.push(ours);
        if let Some(config) = &baseline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let theirs = run_baseline(&state, &brand, &mut sinks, activity, config, params.concurrency).await;
            eprintln!("baseline #{n}: {theirs:?}");
            report.baseline.push(theirs);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    report
}
