//! The hostile-input suite (issue 4): requests a malicious or broken server could send, each
//! over HTTP to a real instance, each asserting the status and that nothing was stored or
//! changed (every row of the tables activities can touch, compared before and after).
//!
//! - Inbox level: forged actors, ids on our domain or on another host, replays, JSON-LD
//!   tricks, oversize and deeply nested JSON, non-JSON and wrong content types → 4xx.
//! - Fetch level: actor URLs (which the inbox must fetch) on loopback, private, mapped-IPv6,
//!   `0.0.0.0` and link-local addresses, redirects to them, documents whose id is not their
//!   URL, wrong types, oversize and slow-drip responses → 401, and the target never reached.
//! - Handler level: activities that pass the inbox (202, I9) and that the worker refuses:
//!   forged `attributedTo`, edits and deletes of what the sender does not own, objects on
//!   our domain or another host, reactions to what is not ours.
//! - Remote HTML (profile summaries, replies) arrives sanitized.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use openhouse::{
    crypto::generate_rsa_keys,
    db::{
        entities::{
            activities, actors, blocks, conversations, deliveries, follows, inbox_activities, posts, reactions, reports,
        },
        queries,
    },
    domain::{ActorKind, Visibility},
    federation::signatures::{SigningKey, sign_request},
    services::posts::{self as post_service, Draft},
};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use scraper::{Html, node::Node};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use url::Url;

use crate::helpers::{Options, TestApp, eventually};

pub(crate) const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// What a fake server answers on one path.
#[derive(Clone)]
pub(crate) enum Doc {
    /// `application/activity+json`.
    Json(Value),
    /// Any content type and body.
    Raw(&'static str, String),
    /// A 302 to this location.
    Redirect(String),
}

/// A remote server under the test's control (on an allow-listed loopback address).
#[derive(Clone)]
pub(crate) struct Fake {
    pub(crate) base: String,
    docs: Arc<Mutex<HashMap<String, Doc>>>,
    /// Paths requested, in order.
    hits: Arc<Mutex<Vec<String>>>,
    /// POSTs received (deliveries), and the status they are answered with.
    posts: Arc<AtomicUsize>,
    post_status: Arc<AtomicU16>,
}

async fn serve(State(fake): State<Fake>, method: axum::http::Method, uri: Uri) -> Response {
    fake.hits.lock().unwrap().push(uri.path().to_owned());
    if method == axum::http::Method::POST {
        fake.posts.fetch_add(1, Ordering::SeqCst);
        return StatusCode::from_u16(fake.post_status.load(Ordering::SeqCst)).unwrap().into_response();
    }
    match fake.docs.lock().unwrap().get(uri.path()).cloned() {
        Some(Doc::Json(doc)) => {
            ([(header::CONTENT_TYPE, "application/activity+json")], doc.to_string()).into_response()
        }
        Some(Doc::Raw(content_type, body)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Some(Doc::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Fake {
    pub(crate) async fn start(ip: &str) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let fake = Fake {
            base: format!("http://{}", listener.local_addr().unwrap()),
            docs: Arc::default(),
            hits: Arc::default(),
            posts: Arc::default(),
            post_status: Arc::new(AtomicU16::new(202)),
        };
        let app = Router::new().fallback(serve).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    /// Answers POSTs with `status` from now on (202 at first).
    pub(crate) fn answer(&self, status: u16) {
        self.post_status.store(status, Ordering::SeqCst);
    }

    /// POSTs received so far.
    pub(crate) fn posts_received(&self) -> usize {
        self.posts.load(Ordering::SeqCst)
    }

    pub(crate) fn port(&self) -> u16 {
        Url::parse(&self.base).unwrap().port().unwrap()
    }

    pub(crate) fn put(&self, url: &str, doc: Doc) {
        let path = Url::parse(url).unwrap().path().to_owned();
        self.docs.lock().unwrap().insert(path, doc);
    }

    pub(crate) fn hits_of(&self, path: &str) -> usize {
        self.hits.lock().unwrap().iter().filter(|p| *p == path).count()
    }

    /// A remote actor with a fresh key, served here.
    pub(crate) fn actor(&self, name: &str) -> FakeActor {
        let actor = FakeActor::at(&format!("{}/users/{name}", self.base));
        self.put(&actor.id, Doc::Json(actor.doc.clone()));
        actor
    }
}

/// A remote actor: its id, its key and its document (served or not).
pub(crate) struct FakeActor {
    pub(crate) id: String,
    pub(crate) key: SigningKey,
    pub(crate) doc: Value,
    seq: AtomicUsize,
}

impl FakeActor {
    /// An actor whose id is `id`, wherever that is (it may be an address we must not fetch).
    pub(crate) fn at(id: &str) -> Self {
        let keys = generate_rsa_keys().unwrap();
        let key =
            SigningKey::from_pkcs8_pem(Url::parse(&format!("{id}#main-key")).unwrap(), &keys.private_pem).unwrap();
        let name = id.rsplit('/').next().unwrap();
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": format!("{id}/inbox"),
            "followers": format!("{id}/followers"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": keys.public_pem},
        });
        Self { id: id.to_owned(), key, doc, seq: AtomicUsize::new(0) }
    }

    pub(crate) fn new_id(&self, what: &str) -> String {
        format!("{}/{what}/{}", self.id, self.seq.fetch_add(1, Ordering::SeqCst))
    }

    /// A public note attributed to this actor (not served).
    pub(crate) fn note(&self, in_reply_to: Option<&str>, text: &str) -> Value {
        json!({
            "id": self.new_id("notes"),
            "type": "Note",
            "attributedTo": self.id,
            "content": text,
            "inReplyTo": in_reply_to,
            "published": "2026-11-23T10:00:00Z",
            "to": [PUBLIC],
            "cc": [format!("{}/followers", self.id)],
        })
    }

    pub(crate) fn activity(&self, kind: &str, object: Value) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.new_id("activities"),
            "type": kind,
            "actor": self.id,
            "object": object,
        })
    }

    /// Signs `body` with this actor's key, lets `tamper` change the request, and POSTs it
    /// to A's shared inbox; the status.
    pub(crate) async fn post_raw(&self, a: &TestApp, body: &[u8], tamper: impl FnOnce(&mut HeaderMap)) -> u16 {
        let inbox = Url::parse(&format!("{}/inbox", a.base)).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
        sign_request(&self.key, &reqwest::Method::POST, &inbox, &mut headers, Some(body), SystemTime::now()).unwrap();
        headers.remove(reqwest::header::HOST);
        tamper(&mut headers);
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        client.post(inbox).headers(headers).body(body.to_vec()).send().await.unwrap().status().as_u16()
    }

    pub(crate) async fn send(&self, a: &TestApp, activity: &Value) -> u16 {
        self.post_raw(a, activity.to_string().as_bytes(), |_| {}).await
    }
}

/// A TCP listener that only counts connections: an address the instance must never reach.
struct Canary {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Canary {
    async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Self { port, connections }
    }

    fn reached(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// An HTTP server (on an allow-listed address) that answers 200 with an ActivityPub type
/// and then sends one byte of body per second, for a minute (F4: we must give up at 10 s).
async fn slow_drip(ip: &str) -> String {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: application/activity+json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..60 {
                    if stream.write_all(b"1\r\n \r\n").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        }
    });
    base
}

/// Every row an inbound activity could create or change, and the counts of the rest.
#[derive(Debug, PartialEq, Eq, Clone)]
pub(crate) struct Snapshot {
    inbox_rows: u64,
    actors: u64,
    rows: Vec<String>,
}

pub(crate) async fn snapshot(a: &TestApp) -> Snapshot {
    let db = &a.state.db;
    let mut rows = Vec::new();
    macro_rules! dump {
        ($($entity:ident),*) => {$(
            for row in $entity::Entity::find().all(db).await.unwrap() {
                rows.push(format!("{row:?}"));
            }
        )*};
    }
    dump!(posts, reactions, conversations, reports, blocks, follows, activities, deliveries);
    rows.sort();
    Snapshot {
        inbox_rows: inbox_activities::Entity::find().count(db).await.unwrap(),
        actors: actors::Entity::find().count(db).await.unwrap(),
        rows,
    }
}

/// Waits until the worker has finished with the inbox row of `id` (or has given it an error
/// and a retry); its state and last error.
async fn processed(a: &TestApp, id: &str) -> (String, Option<String>) {
    eventually(30, &format!("the worker to process {id}"), || async {
        let row = inbox_activities::Entity::find()
            .filter(inbox_activities::Column::ApId.eq(id))
            .one(&a.state.db)
            .await
            .unwrap()?;
        (row.state != inbox_activities::InboxState::Pending || row.last_error.is_some())
            .then_some((row.state.as_str().to_owned(), row.last_error))
    })
    .await
}

/// The cases run against one instance, and what went wrong in them (all are reported).
struct Suite<'a> {
    a: &'a TestApp,
    baseline: Snapshot,
    cases: usize,
    failures: Vec<String>,
}

impl<'a> Suite<'a> {
    /// Starts once background work of the setup (delivery expansion…) has settled.
    async fn new(a: &'a TestApp) -> Self {
        let mut baseline = snapshot(a).await;
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = snapshot(a).await;
            if now == baseline {
                break;
            }
            baseline = now;
        }
        Self { a, baseline, cases: 0, failures: Vec::new() }
    }

    /// A request refused at the inbox: the status, and nothing changed at all.
    async fn refused(&mut self, name: &str, want: u16, got: u16) {
        self.cases += 1;
        println!("{name}: {got}");
        if got != want {
            self.failures.push(format!("{name}: status {got}, expected {want}"));
        }
        self.unchanged(name).await;
    }

    /// An activity the inbox accepts (202) and the worker must refuse or ignore: it is
    /// stored as a row, its processing does not apply, and nothing else changed.
    async fn accepted_but_refused(&mut self, name: &str, actor: &FakeActor, activity: &Value) {
        self.cases += 1;
        let status = actor.send(self.a, activity).await;
        if status != 202 {
            self.failures.push(format!("{name}: status {status}, expected 202 (I9)"));
            return self.unchanged(name).await;
        }
        let (state, error) = processed(self.a, activity["id"].as_str().unwrap()).await;
        if state == "done" {
            self.failures.push(format!("{name}: the worker applied it ({error:?})"));
        }
        println!("{name}: {state} ({})", error.as_deref().unwrap_or_default());
        self.baseline.inbox_rows += 1;
        self.unchanged(name).await;
    }

    async fn unchanged(&mut self, name: &str) {
        let now = snapshot(self.a).await;
        if now != self.baseline {
            let added: Vec<_> = now.rows.iter().filter(|r| !self.baseline.rows.contains(r)).collect();
            self.failures.push(format!(
                "{name}: state changed: inbox rows {} → {}, actors {} → {}, rows now or changed: {added:?}",
                self.baseline.inbox_rows, now.inbox_rows, self.baseline.actors, now.actors
            ));
            self.baseline = now;
        }
    }

    fn finish(self, at_least: usize) -> usize {
        assert!(
            self.failures.is_empty(),
            "{} of {} cases failed:\n{}",
            self.failures.len(),
            self.cases,
            self.failures.join("\n")
        );
        assert!(self.cases >= at_least, "only {} cases ran", self.cases);
        self.cases
    }
}

const FAKE_HOSTS: &str = "127.0.0.4/32:*,127.0.0.5/32:*";

async fn instance() -> (TestApp, Fake, Fake) {
    let a = TestApp::spawn_with(Options {
        ip: Some("127.0.0.2"),
        allow_private_fetch: Some(FAKE_HOSTS.into()),
        ..Default::default()
    })
    .await;
    (a, Fake::start("127.0.0.4").await, Fake::start("127.0.0.5").await)
}

pub(crate) async fn publish(a: &TestApp, author: &actors::Model, text: &str) -> posts::Model {
    let draft = Draft {
        text: text.into(),
        content_warning: None,
        visibility: Visibility::Public,
        scheduled_at: None,
        in_reply_to: None,
        mentioned: Vec::new(),
        uploads: Vec::new(),
    };
    let media_dir = a.state.config.data_dir.join("media");
    post_service::publish(&a.state.db, &a.state.urls, &media_dir, author, draft).await.unwrap()
}

/// An activity by `actor` with `field` replaced.
fn with(mut activity: Value, field: &str, value: Value) -> Value {
    activity[field] = value;
    activity
}

#[tokio::test]
async fn hostile_requests_are_refused_at_the_inbox_and_change_nothing() {
    let (a, fake1, _fake2) = instance().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let acme = a.actor_url("acme");
    let ada = fake1.actor("ada");
    let bob = fake1.actor("bob");
    // Both actors known to A already (a harmless activity of a type we ignore).
    for actor in [&ada, &bob] {
        let hello = actor.activity("Listen", json!(acme));
        assert_eq!(actor.send(&a, &hello).await, 202);
        processed(&a, hello["id"].as_str().unwrap()).await;
    }
    let follow = ada.activity("Follow", json!(acme));
    let mut s = Suite::new(&a).await;

    // I6: ada's key, bob's name.
    let got = ada.send(&a, &with(follow.clone(), "actor", json!(bob.id))).await;
    s.refused("signed by X carrying actor: Y", 401, got).await;
    let as_bob = with(with(follow.clone(), "actor", json!(bob.id)), "id", json!(bob.new_id("activities")));
    s.refused("signed by X carrying actor: Y and an id of Y's", 401, ada.send(&a, &as_bob).await).await;
    // I8: ours, or not the actor's.
    let got = ada.send(&a, &with(follow.clone(), "id", json!(format!("{}/activities/forged", a.base)))).await;
    s.refused("activity id on our domain", 400, got).await;
    s.refused("actor on our domain", 400, ada.send(&a, &with(follow.clone(), "actor", json!(acme))).await).await;
    let got = ada.send(&a, &with(follow.clone(), "id", json!("https://elsewhere.example/activities/1"))).await;
    s.refused("activity id on another host than the actor", 400, got).await;
    // JSON-LD tricks: only the plain keys, with the plain shapes, count.
    let graph = json!({"@context": "https://www.w3.org/ns/activitystreams", "@graph": [follow]});
    s.refused("@graph", 400, ada.send(&a, &graph).await).await;
    let aliased = json!({"@id": follow["id"], "@type": "Follow", "as:actor": ada.id, "as:object": acme});
    s.refused("aliased keys (@id, @type, as:actor)", 400, ada.send(&a, &aliased).await).await;
    let got = ada.send(&a, &with(follow.clone(), "id", json!([follow["id"]]))).await;
    s.refused("array where the id belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "actor", json!([ada.id, bob.id]))).await;
    s.refused("array where the actor belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "type", json!(["Follow", "Like"]))).await;
    s.refused("array where the type belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "id", json!({"id": follow["id"]}))).await;
    s.refused("object where the id belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "actor", json!({"id": {"id": ada.id}}))).await;
    s.refused("nested object where the actor id belongs", 400, got).await;
    // Oversize.
    let long_id = format!("{}/activities/{}", ada.id, "x".repeat(3000));
    s.refused("oversize id", 400, ada.send(&a, &with(follow.clone(), "id", json!(long_id))).await).await;
    let huge = with(follow.clone(), "padding", json!("x".repeat(1024 * 1024)));
    s.refused("body over 1 MiB", 413, ada.send(&a, &huge).await).await;
    // Deep nesting: refused by the JSON parser's depth limit, never a stack overflow.
    let deep = format!(
        r#"{{"id":"{}","type":"Create","actor":"{}","object":{}1{}}}"#,
        ada.new_id("activities"),
        ada.id,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    s.refused("100,000 nested arrays", 400, ada.post_raw(&a, deep.as_bytes(), |_| {}).await).await;
    let deep = format!("{}1{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    s.refused("50,000 nested objects", 400, ada.post_raw(&a, deep.as_bytes(), |_| {}).await).await;
    // Not JSON, or not an object.
    let html = b"<html><body><script>alert(1)</script></body></html>";
    s.refused("HTML body", 400, ada.post_raw(&a, html, |_| {}).await).await;
    s.refused("empty body", 400, ada.post_raw(&a, b"", |_| {}).await).await;
    s.refused("JSON array body", 400, ada.post_raw(&a, format!("[{follow}]").as_bytes(), |_| {}).await).await;
    s.refused("JSON null body", 400, ada.post_raw(&a, b"null", |_| {}).await).await;
    let mut latin1 = follow.to_string().into_bytes();
    latin1.extend_from_slice(b"\xff\xfe");
    s.refused("bytes that are not UTF-8", 400, ada.post_raw(&a, &latin1, |_| {}).await).await;
    // Wrong content types, even with a valid signature and a valid activity.
    for (name, content_type) in [
        ("text/plain content type", "text/plain"),
        ("text/html content type", "text/html; charset=utf-8"),
        ("form content type", "application/x-www-form-urlencoded"),
        ("multipart content type", "multipart/form-data; boundary=x"),
    ] {
        let body = ada.activity("Follow", json!(acme)).to_string();
        let got = ada
            .post_raw(&a, body.as_bytes(), |h| {
                h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            })
            .await;
        s.refused(name, 415, got).await;
    }
    let got = ada
        .post_raw(&a, follow.to_string().as_bytes(), |h| {
            h.remove("signature");
        })
        .await;
    s.refused("unsigned", 401, got).await;

    // Replay: the first copy is stored once; a second with the same id and another body is
    // accepted (I10) and changes nothing, not even the stored payload.
    let listen = ada.activity("Listen", json!(acme));
    assert_eq!(ada.send(&a, &listen).await, 202);
    processed(&a, listen["id"].as_str().unwrap()).await;
    s.baseline = snapshot(&a).await;
    let stored = |a: &TestApp, id: String| {
        let db = a.state.db.clone();
        async move {
            inbox_activities::Entity::find()
                .filter(inbox_activities::Column::ApId.eq(id))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let before = stored(&a, listen["id"].as_str().unwrap().to_owned()).await;
    let replay = with(listen.clone(), "object", json!(bob.id));
    s.refused("replayed activity id with another body", 202, ada.send(&a, &replay).await).await;
    let after = stored(&a, listen["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(after, before, "the replay did not touch the stored activity");

    let cases = s.finish(25);
    println!("{cases} inbox-level hostile cases refused");
}

#[tokio::test]
async fn actor_urls_on_special_addresses_redirects_and_bad_documents_are_never_fetched_or_stored() {
    let (a, fake1, _fake2) = instance().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let acme = a.actor_url("acme");
    let canary = Canary::start().await;
    let port = canary.port;
    let mut s = Suite::new(&a).await;

    for (name, url) in [
        ("actor on loopback", format!("https://127.0.0.1:{port}/users/x")),
        ("actor on loopback over plain http", format!("http://127.0.0.1:{port}/users/x")),
        ("actor on IPv4-mapped IPv6 loopback", format!("https://[::ffff:127.0.0.1]:{port}/users/x")),
        ("actor on IPv4-compatible IPv6 loopback", format!("https://[::127.0.0.1]:{port}/users/x")),
        ("actor on 0.0.0.0", format!("https://0.0.0.0:{port}/users/x")),
        ("actor on loopback spelled as one decimal number", format!("https://2130706433:{port}/users/x")),
        ("actor on loopback spelled in hex and short form", format!("https://0x7f.1:{port}/users/x")),
        ("actor on localhost", format!("https://localhost:{port}/users/x")),
        ("actor on IPv6 loopback", format!("https://[::1]:{port}/users/x")),
        ("actor on a private address", "https://10.0.0.1/users/x".to_owned()),
        ("actor on link-local (cloud metadata)", "https://169.254.169.254/users/x".to_owned()),
        ("actor on CGNAT", "https://100.64.0.1/users/x".to_owned()),
        ("actor on NAT64 of loopback", format!("https://[64:ff9b::7f00:1]:{port}/users/x")),
    ] {
        // An actor whose id is `url`: A must fetch it to check the signature, and must refuse to.
        let actor = FakeActor::at(&url);
        s.refused(name, 401, actor.send(&a, &actor.activity("Follow", json!(acme))).await).await;
    }

    // Redirects from an allowed host to forbidden ones are checked at every hop (F1, F3).
    let fake_port = fake1.port();
    for (i, (name, target)) in [
        ("redirect to loopback", format!("http://127.0.0.1:{port}/users/x")),
        ("redirect to IPv4-mapped loopback", format!("http://[::ffff:127.0.0.1]:{port}/users/x")),
        ("redirect to 0.0.0.0", format!("http://0.0.0.0:{port}/users/x")),
        ("redirect to localhost", format!("http://localhost:{port}/users/x")),
        ("redirect to a private address", "http://192.168.1.1/users/x".to_owned()),
        (
            "redirect to the mapped spelling of an allowed address",
            format!("http://[::ffff:127.0.0.4]:{fake_port}/users/mapped"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let actor = fake1.actor(&format!("hop{i}"));
        fake1.put(&actor.id, Doc::Redirect(target));
        s.refused(name, 401, actor.send(&a, &actor.activity("Follow", json!(acme))).await).await;
    }
    assert_eq!(fake1.hits_of("/users/mapped"), 0, "the mapped spelling was not fetched");
    // Two redirects between allowed hosts: more than F3 allows for objects.
    let twice = fake1.actor("twice");
    let hop = fake1.actor("twice-hop");
    let end = fake1.actor("twice-end");
    fake1.put(&twice.id, Doc::Redirect(hop.id.clone()));
    fake1.put(&hop.id, Doc::Redirect(end.id.clone()));
    s.refused("two redirects", 401, twice.send(&a, &twice.activity("Follow", json!(acme))).await).await;
    assert_eq!(fake1.hits_of(Url::parse(&end.id).unwrap().path()), 0);

    // Bad documents (F2, F4, I8).
    let mallory = fake1.actor("mallory");
    let other = fake1.actor("someone-else");
    fake1.put(&mallory.id, Doc::Json(with(mallory.doc.clone(), "id", json!(other.id))));
    s.refused(
        "a document whose id differs from its URL",
        401,
        mallory.send(&a, &mallory.activity("Follow", json!(acme))).await,
    )
    .await;
    let bad_documents = |actor: &FakeActor| {
        let big = with(actor.doc.clone(), "padding", json!("x".repeat(1024 * 1024 + 10)));
        [
            ("actor served as text/html", Doc::Raw("text/html", actor.doc.to_string())),
            ("actor served as plain application/json", Doc::Raw("application/json", actor.doc.to_string())),
            ("actor document over 1 MiB", Doc::Raw("application/activity+json", big.to_string())),
            ("actor document that is not JSON", Doc::Raw("application/activity+json", "<html>".into())),
        ]
    };
    for i in 0..4 {
        let actor = fake1.actor(&format!("bad-doc{i}"));
        let (name, doc) = bad_documents(&actor).into_iter().nth(i).unwrap();
        fake1.put(&actor.id, doc);
        s.refused(name, 401, actor.send(&a, &actor.activity("Follow", json!(acme))).await).await;
    }
    let key_thief = fake1.actor("key-thief");
    let mut doc = key_thief.doc.clone();
    doc["publicKey"]["owner"] = json!(other.id);
    fake1.put(&key_thief.id, Doc::Json(doc));
    s.refused(
        "a key owned by another actor",
        401,
        key_thief.send(&a, &key_thief.activity("Follow", json!(acme))).await,
    )
    .await;
    let elsewhere = fake1.actor("inbox-elsewhere");
    fake1.put(&elsewhere.id, Doc::Json(with(elsewhere.doc.clone(), "inbox", json!("https://evil.example/inbox"))));
    s.refused(
        "an actor whose inbox is on another host",
        401,
        elsewhere.send(&a, &elsewhere.activity("Follow", json!(acme))).await,
    )
    .await;

    assert_eq!(canary.reached(), 0, "no forbidden address was ever connected to");
    let cases = s.finish(20);
    println!("{cases} fetch-level hostile cases refused");
}

#[tokio::test]
async fn a_slow_drip_actor_document_times_out() {
    let (a, _fake1, _fake2) = instance().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let base = slow_drip("127.0.0.4").await;
    let actor = FakeActor::at(&format!("{base}/users/drip"));
    let mut s = Suite::new(&a).await;
    let started = Instant::now();
    let status = actor.send(&a, &actor.activity("Follow", json!(a.actor_url("acme")))).await;
    let took = started.elapsed();
    s.refused("slow-drip actor document", 401, status).await;
    // F4: the whole request is bounded by 10 s (not by the minute the drip would last).
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(30), "gave up after {took:?}");
    s.finish(1);
}

/// Whether stored HTML contains anything executable, read with an HTML parser.
fn executable_parts(html: &str) -> Vec<String> {
    let doc = Html::parse_fragment(html);
    let mut found = Vec::new();
    for node in doc.tree.nodes() {
        if let Node::Element(el) = node.value() {
            let name = el.name();
            if ["script", "style", "svg", "math", "iframe", "embed", "object", "img", "form", "base"].contains(&name) {
                found.push(format!("<{name}>"));
            }
            for (attr, value) in el.attrs() {
                let v = value.trim().to_ascii_lowercase();
                if attr.starts_with("on")
                    || attr == "style"
                    || attr == "src"
                    || v.starts_with("javascript:")
                    || v.starts_with("data:")
                    || v.starts_with("vbscript:")
                {
                    found.push(format!("{attr}={value:?} on <{name}>"));
                }
            }
        }
    }
    found
}

const HOSTILE_HTML: &str = r#"<p onclick="steal()">Hello <b onmouseover="x()">there</b></p>
<script>alert(document.cookie)</script><style>body{display:none}</style>
<a href="javascript:alert(1)">click</a> <a href=" JaVaScRiPt:alert(2)">again</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>
<svg onload="alert(3)"><script>alert(4)</script></svg><math><mi xlink:href="javascript:alert(5)">x</mi></math>
<iframe src="https://evil.example/"></iframe><embed src="https://evil.example/x.swf"><object data="x"></object>
<img src="x" onerror="alert(6)"><a href="https://ok.example/">fine link</a>"#;

#[tokio::test]
async fn hostile_html_in_profiles_and_replies_is_sanitized_on_ingest() {
    let (a, fake1, _fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let eve = fake1.actor("eve");
    let mut doc = eve.doc.clone();
    doc["summary"] = json!(HOSTILE_HTML);
    doc["name"] = json!("<script>alert('name')</script>Eve");
    fake1.put(&eve.id, Doc::Json(doc));

    // Any activity makes A fetch and store eve: her summary is stored sanitized.
    let hello = eve.activity("Listen", json!(brand.ap_id));
    assert_eq!(eve.send(&a, &hello).await, 202);
    let stored = queries::actors::find_by_ap_id(&a.state.db, &eve.id).await.unwrap().unwrap();
    assert_eq!(executable_parts(&stored.summary), Vec::<String>::new(), "{}", stored.summary);
    assert!(
        stored.summary.contains("Hello") && stored.summary.contains(r#"href="https://ok.example/""#),
        "{}",
        stored.summary
    );
    assert!(!stored.summary.contains("alert"), "script text dropped: {}", stored.summary);
    assert!(executable_parts(HOSTILE_HTML).len() >= 10, "the checker sees the attacks in the input");

    // A reply carrying the same HTML is stored sanitized too.
    let reply = eve.note(Some(&update.ap_id), HOSTILE_HTML);
    let create = eve.activity("Create", reply.clone());
    assert_eq!(eve.send(&a, &create).await, 202);
    assert_eq!(processed(&a, create["id"].as_str().unwrap()).await.0, "done");
    let post = queries::posts::find_by_ap_id(&a.state.db, reply["id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(executable_parts(&post.content_html), Vec::<String>::new(), "{}", post.content_html);
    assert!(post.content_html.contains("fine link"), "{}", post.content_html);
}

#[tokio::test]
async fn activities_the_worker_must_refuse_are_accepted_then_change_nothing() {
    let (a, fake1, fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake1.actor("bob");
    let carol = fake2.actor("carol");

    // Ada's reply is stored; ada likes the update; carol is known.
    let reply = ada.note(Some(&update.ap_id), "<p>Great!</p>");
    let create = ada.activity("Create", reply.clone());
    assert_eq!(ada.send(&a, &create).await, 202);
    assert_eq!(processed(&a, create["id"].as_str().unwrap()).await.0, "done");
    let like = ada.activity("Like", json!(update.ap_id));
    assert_eq!(ada.send(&a, &like).await, 202);
    assert_eq!(processed(&a, like["id"].as_str().unwrap()).await.0, "done");
    for actor in [&bob, &carol] {
        let hello = actor.activity("Listen", json!(brand.ap_id));
        assert_eq!(actor.send(&a, &hello).await, 202);
        processed(&a, hello["id"].as_str().unwrap()).await;
    }
    let reply_id = reply["id"].as_str().unwrap().to_owned();
    let mut s = Suite::new(&a).await;

    // Creates that forge where a note comes from.
    let mut forged = ada.note(Some(&update.ap_id), "in bob's name");
    forged["attributedTo"] = json!(bob.id);
    s.accepted_but_refused("Create with a forged attributedTo", &ada, &ada.activity("Create", forged)).await;
    let mut forged = ada.note(Some(&update.ap_id), "in the brand's name");
    forged["attributedTo"] = json!(brand.ap_id);
    s.accepted_but_refused("Create attributed to our own actor", &ada, &ada.activity("Create", forged)).await;
    let mut elsewhere = ada.note(Some(&update.ap_id), "from another host");
    elsewhere["id"] = json!(format!("{}/notes/elsewhere", fake2.base));
    fake2.put(&format!("{}/notes/elsewhere", fake2.base), Doc::Json(elsewhere.clone()));
    s.accepted_but_refused("Create whose Note is on another host", &ada, &ada.activity("Create", elsewhere)).await;
    let mut ours = ada.note(Some(&update.ap_id), "claims our domain");
    ours["id"] = json!(format!("{}/users/acme/posts/forged", a.base));
    s.accepted_but_refused("Create whose Note id is on our domain", &ada, &ada.activity("Create", ours)).await;
    let mut nested = ada.note(Some(&update.ap_id), "object id is an object");
    nested["id"] = json!({"id": nested["id"]});
    s.accepted_but_refused("Create whose Note id is an object", &ada, &ada.activity("Create", nested)).await;
    let many: Vec<u8> = vec![0; 400_000];
    s.accepted_but_refused(
        "Create whose object is an array of 400,000 numbers",
        &ada,
        &ada.activity("Create", json!(many)),
    )
    .await;
    let mut long_parent = ada.note(None, "parent URL of 900 kB");
    long_parent["inReplyTo"] = json!(format!("{}/{}", update.ap_id, "x".repeat(900_000)));
    s.accepted_but_refused("Create whose inReplyTo is 900 kB", &ada, &ada.activity("Create", long_parent)).await;

    // Edits and deletes of what the sender does not own; an Update never creates.
    let mut edit = reply.clone();
    edit["content"] = json!("bob was here");
    s.accepted_but_refused("Update of someone else's note", &bob, &bob.activity("Update", edit)).await;
    let unknown = ada.note(Some(&update.ap_id), "never created");
    s.accepted_but_refused("Update of an unknown note", &ada, &ada.activity("Update", unknown)).await;
    let mut ours = reply.clone();
    ours["id"] = json!(update.ap_id);
    ours["attributedTo"] = json!(ada.id);
    s.accepted_but_refused("Update of our own note", &ada, &ada.activity("Update", ours)).await;
    let mut brand_doc = ada.doc.clone();
    brand_doc["id"] = json!(brand.ap_id);
    s.accepted_but_refused("Update of our own actor", &ada, &ada.activity("Update", brand_doc)).await;
    let mut ada_doc = ada.doc.clone();
    ada_doc["name"] = json!("renamed by bob");
    s.accepted_but_refused("Update of another remote actor", &bob, &bob.activity("Update", ada_doc)).await;
    s.accepted_but_refused("Delete of our own post", &ada, &ada.activity("Delete", json!(update.ap_id))).await;
    s.accepted_but_refused("Delete of our own actor", &ada, &ada.activity("Delete", json!(brand.ap_id))).await;
    let tombstone = json!({"id": update.ap_id, "type": "Tombstone"});
    s.accepted_but_refused("Delete of our own post as a Tombstone", &ada, &ada.activity("Delete", tombstone)).await;
    s.accepted_but_refused("Delete of someone else's note", &bob, &bob.activity("Delete", json!(reply_id))).await;
    s.accepted_but_refused("Delete of another actor", &bob, &bob.activity("Delete", json!(ada.id))).await;

    // Reactions to what is not ours, and undoing someone else's.
    let remote_note = format!("{}/notes/not-ours", fake1.base);
    s.accepted_but_refused("Like of a note that is not ours", &ada, &ada.activity("Like", json!(remote_note))).await;
    s.accepted_but_refused("Announce of a note that is not ours", &ada, &ada.activity("Announce", json!(remote_note)))
        .await;
    let missing = format!("{}/users/acme/posts/00000000-0000-0000-0000-000000000000", a.base);
    s.accepted_but_refused("Like of a post of ours that does not exist", &ada, &ada.activity("Like", json!(missing)))
        .await;
    s.accepted_but_refused("Like of one of our actors", &ada, &ada.activity("Like", json!(brand.ap_id))).await;
    s.accepted_but_refused("Undo of someone else's Like", &bob, &bob.activity("Undo", like.clone())).await;
    s.accepted_but_refused("Undo of someone else's Like by id", &bob, &bob.activity("Undo", like["id"].clone())).await;

    // Blocks, moves and reports that do not concern us or are not proven.
    s.accepted_but_refused("Block of an actor that is not ours", &ada, &ada.activity("Block", json!(carol.id))).await;
    let mut moved = bob.activity("Move", json!(ada.id));
    moved["target"] = json!(carol.id);
    s.accepted_but_refused("Move of another actor", &bob, &moved).await;
    let mut unproven = ada.activity("Move", json!(ada.id));
    unproven["target"] = json!(carol.id);
    s.accepted_but_refused("Move to an actor that does not name the old one", &ada, &unproven).await;
    s.accepted_but_refused("Flag without objects", &ada, &ada.activity("Flag", json!([]))).await;

    // Nothing above touched ada's reply or the update.
    let row = queries::posts::find_by_ap_id(&a.state.db, &reply_id).await.unwrap().unwrap();
    assert!(row.content_html.contains("Great!") && row.deleted_at.is_none());
    let cases = s.finish(25);
    println!("{cases} handler-level hostile cases refused by the worker");
}
