//! A remote server under the test's control, and the actors on it: it serves the documents
//! put into it (JSON, any other content type, redirects, `410 Gone`, or nothing until
//! released), counts what it is asked for, and takes deliveries with a chosen status. Its
//! actors have real keys and sign what they send to an instance's inbox.

use openhouse::db::entities::inbox_activities::InboxState;
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, AtomicUsize, Ordering},
    },
    time::SystemTime,
};

use axum::{
    Router,
    extract::State,
    http::{Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use openhouse::federation::signatures::SigningKey;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::watch};
use url::Url;

use super::{
    app::{Options, TestApp},
    signing, wait,
};

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The loopback addresses fake servers listen on, as an allow-list for the instance.
pub const FAKE_HOSTS: &str = "127.0.0.4/32:*,127.0.0.5/32:*";

/// What a fake server answers on one path.
#[derive(Clone)]
pub enum Doc {
    /// `application/activity+json`.
    Json(Value),
    /// Any content type and body.
    Raw(&'static str, String),
    /// A 302 to this location.
    Redirect(String),
}

impl From<Value> for Doc {
    fn from(doc: Value) -> Self {
        Doc::Json(doc)
    }
}

/// A remote server on an allow-listed loopback address.
#[derive(Clone)]
pub struct Fake {
    pub base: String,
    docs: Arc<Mutex<HashMap<String, Doc>>>,
    /// Paths requested with GET, in order.
    hits: Arc<Mutex<Vec<String>>>,
    /// Paths answered `410 Gone`.
    gone: Arc<Mutex<HashSet<String>>>,
    /// Paths whose GET is held, answered only once released.
    held: Arc<watch::Sender<HashSet<String>>>,
    /// POSTs received (deliveries), by path, and the status they are answered with.
    posts: Arc<Mutex<Vec<String>>>,
    post_status: Arc<AtomicU16>,
}

async fn serve(State(fake): State<Fake>, method: Method, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    if method == Method::POST {
        fake.posts.lock().unwrap().push(path);
        return StatusCode::from_u16(fake.post_status.load(Ordering::SeqCst)).unwrap().into_response();
    }
    fake.hits.lock().unwrap().push(path.clone());
    if fake.gone.lock().unwrap().contains(&path) {
        return StatusCode::GONE.into_response();
    }
    let mut held = fake.held.subscribe();
    let _ = held.wait_for(|held| !held.contains(&path)).await;
    match fake.docs.lock().unwrap().get(&path).cloned() {
        Some(Doc::Json(doc)) => {
            ([(header::CONTENT_TYPE, "application/activity+json")], doc.to_string()).into_response()
        }
        Some(Doc::Raw(content_type, body)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Some(Doc::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn path_of(url: &str) -> String {
    Url::parse(url).unwrap().path().to_owned()
}

impl Fake {
    pub async fn start(ip: &str) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let fake = Fake {
            base: format!("http://{}", listener.local_addr().unwrap()),
            docs: Arc::default(),
            hits: Arc::default(),
            gone: Arc::default(),
            held: Arc::new(watch::channel(HashSet::new()).0),
            posts: Arc::default(),
            post_status: Arc::new(AtomicU16::new(202)),
        };
        let app = Router::new().fallback(serve).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    pub fn port(&self) -> u16 {
        Url::parse(&self.base).unwrap().port().unwrap()
    }

    /// Serves `doc` at `url`'s path from now on.
    pub fn put(&self, url: &str, doc: impl Into<Doc>) {
        self.docs.lock().unwrap().insert(path_of(url), doc.into());
    }

    /// Holds GETs of `url` (they wait) or releases them.
    pub fn hold(&self, url: &str, held: bool) {
        let path = path_of(url);
        self.held.send_modify(|set| {
            if held {
                set.insert(path);
            } else {
                set.remove(&path);
            }
        });
    }

    /// From now on `url` answers `410 Gone`.
    pub fn make_gone(&self, url: &str) {
        self.gone.lock().unwrap().insert(path_of(url));
    }

    /// GETs of `path` so far.
    pub fn hits_of(&self, path: &str) -> usize {
        self.hits.lock().unwrap().iter().filter(|p| *p == path).count()
    }

    /// GETs of notes (paths with `/notes/` in them) so far.
    pub fn note_fetches(&self) -> usize {
        self.hits.lock().unwrap().iter().filter(|p| p.contains("/notes/")).count()
    }

    /// GETs of actor documents (`/users/NAME`) so far.
    pub fn actor_fetches(&self) -> usize {
        let is_actor = |p: &&String| p.starts_with("/users/") && p.matches('/').count() == 2;
        self.hits.lock().unwrap().iter().filter(is_actor).count()
    }

    /// Answers POSTs with `status` from now on (202 at first).
    pub fn answer(&self, status: u16) {
        self.post_status.store(status, Ordering::SeqCst);
    }

    /// POSTs received so far.
    pub fn posts_received(&self) -> usize {
        self.posts.lock().unwrap().len()
    }

    /// A remote actor with a fresh key, served here.
    pub fn actor(&self, name: &str) -> FakeActor {
        self.actor_with(name, |_| {})
    }

    /// A remote actor with a fresh key; `edit` changes its document before it is served.
    pub fn actor_with(&self, name: &str, edit: impl FnOnce(&mut Value)) -> FakeActor {
        let mut actor = FakeActor::at(&format!("{}/users/{name}", self.base));
        edit(&mut actor.doc);
        self.put(&actor.id, Doc::Json(actor.doc.clone()));
        actor.host = Some(self.clone());
        actor
    }
}

/// An instance on 127.0.0.2 that may fetch from two fake servers (127.0.0.4 and
/// 127.0.0.5), and the two servers.
pub async fn instance_with_fakes(options: Options) -> (TestApp, Fake, Fake) {
    let options =
        Options { ip: Some("127.0.0.2"), allow_private_fetch: Some(FAKE_HOSTS.into()), no_workers: options.no_workers };
    let a = TestApp::spawn_with(options).await;
    (a, Fake::start("127.0.0.4").await, Fake::start("127.0.0.5").await)
}

/// A remote actor: its id, its key and its document (served by its host, if it has one).
pub struct FakeActor {
    pub id: String,
    pub key: SigningKey,
    pub doc: Value,
    host: Option<Fake>,
    seq: AtomicUsize,
}

impl FakeActor {
    /// An actor whose id is `id`, wherever that is (it may be an address we must not fetch);
    /// nothing serves it.
    pub fn at(id: &str) -> Self {
        let (key, public_pem) = signing::new_key(id);
        let name = id.rsplit('/').next().unwrap();
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": format!("{id}/inbox"),
            "followers": format!("{id}/followers"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_pem},
        });
        Self { id: id.to_owned(), key, doc, host: None, seq: AtomicUsize::new(0) }
    }

    /// The server this actor lives on.
    pub fn host(&self) -> &Fake {
        self.host.as_ref().expect("an actor served by a fake server")
    }

    pub fn new_id(&self, what: &str) -> String {
        format!("{}/{what}/{}", self.id, self.seq.fetch_add(1, Ordering::SeqCst))
    }

    /// A public note attributed to this actor (not served).
    pub fn note(&self, in_reply_to: Option<&str>, text: &str) -> Value {
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

    /// A public note with the id `{actor}/notes/{n}`, mentioning `mention` if given, served
    /// by this actor's server (so a parent walk can fetch it).
    pub fn served_note(&self, n: &str, in_reply_to: Option<&str>, mention: Option<&str>, text: &str) -> Value {
        let id = format!("{}/notes/{n}", self.id);
        let mut cc = vec![json!(format!("{}/followers", self.id))];
        let mut tag = Vec::new();
        if let Some(m) = mention {
            cc.push(json!(m));
            tag.push(json!({"type": "Mention", "href": m, "name": "@someone"}));
        }
        let note = json!({
            "id": id,
            "type": "Note",
            "attributedTo": self.id,
            "content": text,
            "inReplyTo": in_reply_to,
            "published": "2026-11-23T10:00:00Z",
            "to": [PUBLIC],
            "cc": cc,
            "tag": tag,
        });
        self.host().put(&id, note.clone());
        note
    }

    pub fn activity(&self, kind: &str, object: Value) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.new_id("activities"),
            "type": kind,
            "actor": self.id,
            "object": object,
        })
    }

    /// Signs `body` with this actor's key, lets `tamper` change the headers, and POSTs it
    /// to A's shared inbox; the status.
    pub async fn post_raw(&self, a: &TestApp, body: &[u8], tamper: impl FnOnce(&mut HeaderMap)) -> u16 {
        let inbox = a.shared_inbox();
        let response =
            signing::post_signed(&signing::client(), &self.key, &inbox, body, SystemTime::now(), |h, _| tamper(h))
                .await;
        response.status().as_u16()
    }

    /// Signs and POSTs an activity to A's shared inbox; the status.
    pub async fn send(&self, a: &TestApp, activity: &Value) -> u16 {
        self.post_raw(a, activity.to_string().as_bytes(), |_| {}).await
    }

    /// Sends and waits until A's worker has finished with it; the final inbox state.
    pub async fn deliver(&self, a: &TestApp, activity: &Value) -> InboxState {
        assert_eq!(self.send(a, activity).await, 202, "{activity}");
        wait::inbox_done(a, activity["id"].as_str().unwrap()).await
    }
}
