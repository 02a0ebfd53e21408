//! Conversations over HTTP: signed activities from test-controlled remote servers (two
//! loopback hosts serving actors and notes) reach A's inbox, and A threads, edits,
//! deletes, counts, reports, blocks and follows moves; missing parents are fetched upward
//! within the fetch budget, and cyclic or over-deep chains end cleanly.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::SystemTime,
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
        entities::{activities, conversations, deliveries, follows, inbox_activities, posts, reports},
        queries,
    },
    domain::{ActorKind, Visibility},
    federation::signatures::{SigningKey, sign_request},
    services::posts::{self as post_service, Draft},
};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{Options, TestApp, eventually};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A remote server under the test's control: serves the documents put in it, takes any POST.
#[derive(Clone)]
struct Fake {
    base: String,
    docs: Arc<Mutex<HashMap<String, Value>>>,
    /// GETs of notes (paths containing `/notes/`).
    note_fetches: Arc<AtomicUsize>,
    /// GETs of actor documents (`/users/NAME`).
    actor_fetches: Arc<AtomicUsize>,
    /// Paths answered `410 Gone`.
    gone: Arc<Mutex<std::collections::HashSet<String>>>,
    /// POSTs received, by path.
    posts: Arc<Mutex<Vec<String>>>,
    /// Paths whose GET is held (answered only once released).
    held: Arc<Mutex<std::collections::HashSet<String>>>,
}

async fn serve(State(fake): State<Fake>, method: axum::http::Method, uri: Uri) -> Response {
    if method == axum::http::Method::POST {
        fake.posts.lock().unwrap().push(uri.path().to_owned());
        return StatusCode::ACCEPTED.into_response();
    }
    if uri.path().contains("/notes/") {
        fake.note_fetches.fetch_add(1, Ordering::SeqCst);
    } else if uri.path().starts_with("/users/") && uri.path().matches('/').count() == 2 {
        fake.actor_fetches.fetch_add(1, Ordering::SeqCst);
    }
    if fake.gone.lock().unwrap().contains(uri.path()) {
        return StatusCode::GONE.into_response();
    }
    while fake.held.lock().unwrap().contains(uri.path()) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    match fake.docs.lock().unwrap().get(uri.path()) {
        Some(doc) => ([(header::CONTENT_TYPE, "application/activity+json")], doc.to_string()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Fake {
    async fn start(ip: &str) -> Self {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let fake = Fake {
            base: format!("http://{}", listener.local_addr().unwrap()),
            docs: Arc::default(),
            note_fetches: Arc::default(),
            actor_fetches: Arc::default(),
            gone: Arc::default(),
            posts: Arc::default(),
            held: Arc::default(),
        };
        let app = Router::new().fallback(serve).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    fn hold(&self, url: &str, held: bool) {
        let path = Url::parse(url).unwrap().path().to_owned();
        let mut set = self.held.lock().unwrap();
        if held {
            set.insert(path);
        } else {
            set.remove(&path);
        }
    }

    /// From now on `url` answers `410 Gone`.
    fn make_gone(&self, url: &str) {
        self.gone.lock().unwrap().insert(Url::parse(url).unwrap().path().to_owned());
    }

    fn put(&self, url: &str, doc: Value) {
        let path = Url::parse(url).unwrap().path().to_owned();
        self.docs.lock().unwrap().insert(path, doc);
    }

    /// A remote actor with a fresh key, served here.
    fn actor(&self, name: &str) -> FakeActor {
        let keys = generate_rsa_keys().unwrap();
        let id = format!("{}/users/{name}", self.base);
        let key =
            SigningKey::from_pkcs8_pem(Url::parse(&format!("{id}#main-key")).unwrap(), &keys.private_pem).unwrap();
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": format!("{id}/inbox"),
            "followers": format!("{id}/followers"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": keys.public_pem},
        });
        self.put(&id, doc.clone());
        FakeActor { id, key, fake: self.clone(), doc, seq: Arc::default() }
    }
}

struct FakeActor {
    id: String,
    key: SigningKey,
    fake: Fake,
    doc: Value,
    seq: Arc<AtomicUsize>,
}

impl FakeActor {
    fn new_id(&self, what: &str) -> String {
        format!("{}/{what}/{}", self.id, self.seq.fetch_add(1, Ordering::SeqCst))
    }

    /// A note by this actor (served by its host too).
    fn note(&self, n: &str, in_reply_to: Option<&str>, mention: Option<&str>, text: &str) -> Value {
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
        self.fake.put(&id, note.clone());
        note
    }

    fn activity(&self, kind: &str, object: Value) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.new_id("activities"),
            "type": kind,
            "actor": self.id,
            "object": object,
        })
    }

    /// Signs and POSTs an activity to A's shared inbox; the status.
    async fn send(&self, a: &TestApp, activity: &Value) -> u16 {
        let inbox = Url::parse(&format!("{}/inbox", a.base)).unwrap();
        let body = activity.to_string();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
        sign_request(&self.key, &reqwest::Method::POST, &inbox, &mut headers, Some(body.as_bytes()), SystemTime::now())
            .unwrap();
        headers.remove(reqwest::header::HOST);
        reqwest::Client::new().post(inbox).headers(headers).body(body).send().await.unwrap().status().as_u16()
    }

    /// Sends and waits until A's worker has finished with it; the final inbox state.
    async fn deliver(&self, a: &TestApp, activity: &Value) -> String {
        assert_eq!(self.send(a, activity).await, 202, "{activity}");
        let id = activity["id"].as_str().unwrap().to_owned();
        processed(a, &id).await
    }
}

/// Waits until the inbox row of `id` is no longer pending; its state.
async fn processed(a: &TestApp, id: &str) -> String {
    eventually(30, "the activity processed", || async {
        let row = inbox_activities::Entity::find()
            .filter(inbox_activities::Column::ApId.eq(id))
            .one(&a.state.db)
            .await
            .unwrap()?;
        (row.state != inbox_activities::InboxState::Pending).then_some(row.state.as_str().to_owned())
    })
    .await
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

async fn publish(a: &TestApp, author: &openhouse::db::entities::actors::Model, text: &str) -> posts::Model {
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

async fn post(a: &TestApp, ap_id: &str) -> Option<posts::Model> {
    queries::posts::find_by_ap_id(&a.state.db, ap_id).await.unwrap()
}

async fn post_count(a: &TestApp) -> u64 {
    posts::Entity::find().count(&a.state.db).await.unwrap()
}

#[tokio::test]
async fn replies_are_threaded_edited_deleted_counted_and_undone() {
    let (a, fake1, fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");

    // Ada replies to the update: stored, threaded under it, in the brand's inbox.
    let reply = ada.note("1", Some(&update.ap_id), None, "<p>Great! <script>alert(1)</script></p>");
    assert_eq!(ada.deliver(&a, &ada.activity("Create", reply.clone())).await, "done");
    let stored = post(&a, reply["id"].as_str().unwrap()).await.expect("the reply is stored");
    assert_eq!(stored.in_reply_to_post_id, Some(update.id));
    assert_eq!(stored.thread_root_id, Some(update.id));
    assert_eq!(stored.depth, 1);
    assert!(!stored.local && stored.content_html.contains("Great!") && !stored.content_html.contains("script"));
    let inbox_rows = conversations::Entity::find().all(&a.state.db).await.unwrap();
    assert_eq!(inbox_rows.len(), 1);
    assert_eq!((inbox_rows[0].actor_id, inbox_rows[0].kind.as_str()), (brand.id, "reply"));
    assert!(inbox_rows[0].answered_at.is_none());

    // The same note again (a new Create, and the same Create replayed) changes nothing.
    let before = post_count(&a).await;
    assert_eq!(ada.deliver(&a, &ada.activity("Create", reply.clone())).await, "ignored");
    assert_eq!(post_count(&a).await, before);
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 1);

    // Bob, on another host, answers Ada: depth 2 in the same thread, and the brand hears of it.
    let answer = bob.note("1", reply["id"].as_str(), None, "me too");
    assert_eq!(bob.deliver(&a, &bob.activity("Create", answer.clone())).await, "done");
    let answer_row = post(&a, answer["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(
        (answer_row.in_reply_to_post_id, answer_row.thread_root_id, answer_row.depth),
        (Some(stored.id), Some(update.id), 2)
    );
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 2);

    // A note neither answering nor mentioning us is not kept.
    let stray = bob.note("stray", None, None, "unrelated");
    assert_eq!(bob.deliver(&a, &bob.activity("Create", stray)).await, "ignored");
    assert_eq!(post_count(&a).await, before + 1);

    // The update's replies collection lists Ada's reply, for Mastodon to backfill.
    let replies_url = format!("{}/replies", update.ap_id.trim_start_matches(&a.base));
    let collection: Value = a.get_activity_json(&replies_url).await.json().await.unwrap();
    assert_eq!(collection["totalItems"], 1);
    let page: Value = a.get_activity_json(&format!("{replies_url}?page=1")).await.json().await.unwrap();
    assert_eq!(page["orderedItems"], json!([reply["id"]]));
    let note: Value = a.get_activity_json(update.ap_id.trim_start_matches(&a.base)).await.json().await.unwrap();
    assert_eq!(note["replies"], format!("{}/replies", update.ap_id));

    // Bob may not edit or delete Ada's note; an Update of an unknown note creates nothing.
    let mut forged = reply.clone();
    forged["content"] = json!("forged");
    assert_eq!(bob.deliver(&a, &bob.activity("Update", forged.clone())).await, "failed");
    assert_eq!(bob.deliver(&a, &bob.activity("Delete", reply["id"].clone())).await, "failed");
    let unknown = ada.note("never-created", Some(&update.ap_id), None, "ghost");
    assert_eq!(ada.deliver(&a, &ada.activity("Update", unknown)).await, "ignored");
    assert_eq!(post_count(&a).await, before + 1);
    assert!(post(&a, reply["id"].as_str().unwrap()).await.unwrap().content_html.contains("Great!"));

    // Ada edits her reply; the same edit again changes nothing.
    let mut edited = reply.clone();
    edited["content"] = json!("<p>Great, edited</p>");
    edited["updated"] = json!("2026-11-23T11:00:00Z");
    assert_eq!(ada.deliver(&a, &ada.activity("Update", edited.clone())).await, "done");
    assert_eq!(ada.deliver(&a, &ada.activity("Update", edited)).await, "ignored");
    let row = post(&a, reply["id"].as_str().unwrap()).await.unwrap();
    assert!(row.content_html.contains("edited") && row.edited_at.is_some());

    // Likes and announces are counted once per actor, and undone.
    let like = ada.activity("Like", json!(update.ap_id));
    assert_eq!(ada.deliver(&a, &like).await, "done");
    assert_eq!(bob.deliver(&a, &bob.activity("Like", json!(update.ap_id))).await, "done");
    assert_eq!(ada.deliver(&a, &ada.activity("Like", json!(update.ap_id))).await, "ignored");
    let announce = ada.activity("Announce", json!(update.ap_id));
    assert_eq!(ada.deliver(&a, &announce).await, "done");
    let counts = |p: posts::Model| (p.likes_count, p.announces_count);
    assert_eq!(counts(post(&a, &update.ap_id).await.unwrap()), (2, 1));
    assert_eq!(ada.deliver(&a, &ada.activity("Undo", like["id"].clone())).await, "done");
    assert_eq!(ada.deliver(&a, &ada.activity("Undo", announce.clone())).await, "done");
    assert_eq!(ada.deliver(&a, &ada.activity("Undo", announce)).await, "ignored");
    assert_eq!(counts(post(&a, &update.ap_id).await.unwrap()), (1, 0));

    // Ada deletes her reply: a tombstone stays in the thread, the brand's inbox row goes.
    assert_eq!(ada.deliver(&a, &ada.activity("Delete", reply["id"].clone())).await, "done");
    let row = post(&a, reply["id"].as_str().unwrap()).await.unwrap();
    assert!(row.deleted_at.is_some() && row.content_html.is_empty());
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 1);
    let collection: Value = a.get_activity_json(&replies_url).await.json().await.unwrap();
    assert_eq!(collection["totalItems"], 0);
}

#[tokio::test]
async fn deleted_actors_reports_blocks_and_moves() {
    let (a, fake1, fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let ada = fake1.actor("ada");

    // Ada follows, likes and replies; then her account is deleted: all of it goes.
    assert_eq!(ada.deliver(&a, &ada.activity("Follow", json!(brand.ap_id))).await, "done");
    assert_eq!(ada.deliver(&a, &ada.activity("Like", json!(update.ap_id))).await, "done");
    let reply = ada.note("1", Some(&update.ap_id), None, "hello");
    assert_eq!(ada.deliver(&a, &ada.activity("Create", reply.clone())).await, "done");
    assert_eq!(post(&a, &update.ap_id).await.unwrap().likes_count, 1);
    assert_eq!(ada.deliver(&a, &ada.activity("Delete", json!(ada.id))).await, "done");
    assert_eq!(post(&a, &update.ap_id).await.unwrap().likes_count, 0);
    assert!(post(&a, reply["id"].as_str().unwrap()).await.unwrap().deleted_at.is_some());
    assert_eq!(queries::follows::count_followers(&a.state.db, brand.id).await.unwrap(), 0);
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 0);
    // A replayed Create from the deleted actor resurrects nothing.
    assert_eq!(
        ada.deliver(&a, &ada.activity("Create", ada.note("2", Some(&update.ap_id), None, "back"))).await,
        "ignored"
    );

    // A report is stored once, naming the brand.
    let bob = fake2.actor("bob");
    let mut flag = bob.activity("Flag", json!([brand.ap_id, update.ap_id]));
    flag["content"] = json!("spam <b>here</b>");
    assert_eq!(bob.deliver(&a, &flag).await, "done");
    assert_eq!(bob.send(&a, &flag).await, 202);
    let stored = reports::Entity::find().all(&a.state.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].target_actor_id, Some(brand.id));
    assert!(stored[0].object_ap_ids.contains(&update.ap_id));

    // Carol follows and Dave follows; Carol blocks the brand: her follow ends and the
    // brand's next post goes to Dave only, even if a follow row came back.
    let carol = fake1.actor("carol");
    let dave = fake2.actor("dave");
    assert_eq!(carol.deliver(&a, &carol.activity("Follow", json!(brand.ap_id))).await, "done");
    assert_eq!(dave.deliver(&a, &dave.activity("Follow", json!(brand.ap_id))).await, "done");
    assert_eq!(carol.deliver(&a, &carol.activity("Block", json!(brand.ap_id))).await, "done");
    let carol_row = queries::actors::find_by_ap_id(&a.state.db, &carol.id).await.unwrap().unwrap();
    assert!(queries::follows::find_pair(&a.state.db, carol_row.id, brand.id).await.unwrap().is_none());
    queries::follows::insert(
        &a.state.db,
        carol_row.id,
        brand.id,
        &format!("{}/f", carol.id),
        openhouse::db::entities::follows::FollowState::Accepted,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let next = publish(&a, &brand, "v3 is out").await;
    let inboxes = eventually(30, "the post's deliveries", || async {
        let create = activities::Entity::find()
            .filter(activities::Column::ObjectApId.eq(next.ap_id.as_str()))
            .one(&a.state.db)
            .await
            .unwrap()?;
        let rows = deliveries::Entity::find()
            .filter(deliveries::Column::ActivityId.eq(create.id))
            .all(&a.state.db)
            .await
            .unwrap();
        let for_post: Vec<String> = rows.into_iter().map(|d| d.inbox_url).collect();
        for_post.iter().any(|i| i.starts_with(&dave.id)).then_some(for_post)
    })
    .await;
    assert!(!inboxes.iter().any(|i| i.starts_with(&carol.id)), "{inboxes:?} {}", next.ap_id);

    // Erin moves from fake1 to fake2; the new account names the old in alsoKnownAs.
    let sam = a.create_actor("sam", ActorKind::Staff, "Sam").await;
    let erin = fake1.actor("erin");
    let erin_row = openhouse::federation::resolve::by_handle_or_url(&a.state.federation, &erin.id).await.unwrap();
    openhouse::services::follows::follow_remote(&a.state.db, &a.state.urls, &sam, &erin_row).await.unwrap();
    let erin2 = fake2.actor("erin2");
    // Without the alias, the Move is refused and nothing changes.
    let mut unproven = erin.activity("Move", json!(erin.id));
    unproven["target"] = json!(erin2.id);
    assert_eq!(erin.deliver(&a, &unproven).await, "failed");
    let mut doc = erin2.doc.clone();
    doc["alsoKnownAs"] = json!([erin.id]);
    fake2.put(&erin2.id, doc);
    let mut proven = erin.activity("Move", json!(erin.id));
    proven["target"] = json!(erin2.id);
    assert_eq!(erin.deliver(&a, &proven).await, "done");
    let erin2_row = queries::actors::find_by_ap_id(&a.state.db, &erin2.id).await.unwrap().unwrap();
    assert!(queries::follows::find_pair(&a.state.db, sam.id, erin2_row.id).await.unwrap().is_some());
    assert!(queries::follows::find_pair(&a.state.db, sam.id, erin_row.id).await.unwrap().is_none());
    let moved = queries::actors::find(&a.state.db, erin_row.id).await.unwrap().unwrap();
    assert_eq!(moved.moved_to_ap_id.as_deref(), Some(erin2.id.as_str()));
    let follows_now =
        follows::Entity::find().filter(follows::Column::FollowerId.eq(sam.id)).count(&a.state.db).await.unwrap();
    assert_eq!(follows_now, 1);
}

/// A chain of notes, alternating between the two hosts, each answering the previous; the
/// first answers `root` (when given). Returns the notes, top first.
fn chain(authors: [&FakeActor; 2], len: usize, root: Option<&str>, tag: &str) -> Vec<Value> {
    let mut notes: Vec<Value> = Vec::with_capacity(len);
    for i in 0..len {
        let parent = match notes.last() {
            Some(p) => p["id"].as_str().map(str::to_owned),
            None => root.map(str::to_owned),
        };
        notes.push(authors[i % 2].note(&format!("{tag}-{i}"), parent.as_deref(), None, &format!("level {i}")));
    }
    notes
}

#[tokio::test]
async fn a_fifty_deep_chain_across_two_hosts_resolves_within_the_fetch_budget() {
    let (a, fake1, fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");
    let notes = chain([&ada, &bob], 50, Some(&update.ap_id), "deep");
    // The last one arrives, mentioning the brand; its 49 ancestors are unknown to A.
    let last = notes.last().unwrap().clone();
    let author = if !notes.len().is_multiple_of(2) { &ada } else { &bob };
    let mut last = last;
    last["cc"] = json!([brand.ap_id]);
    last["tag"] = json!([{"type": "Mention", "href": brand.ap_id, "name": "@acme"}]);
    author.fake.put(last["id"].as_str().unwrap(), last.clone());
    // Ada and Bob are known (cached) before, so every fetch of the walk is a note.
    assert_eq!(ada.deliver(&a, &ada.activity("Like", json!(update.ap_id))).await, "done");
    assert_eq!(bob.deliver(&a, &bob.activity("Like", json!(update.ap_id))).await, "done");
    // The 21st ancestor is held by its server: whatever fetches it cannot go further.
    let beyond_budget = &notes[notes.len() - 2 - 20];
    let beyond_fake = if (notes.len() - 2 - 20).is_multiple_of(2) { &fake1 } else { &fake2 };
    beyond_fake.hold(beyond_budget["id"].as_str().unwrap(), true);
    assert_eq!(author.deliver(&a, &author.activity("Create", last.clone())).await, "done");
    // The activity stopped at its budget: exactly 20 ancestors stored with it, the rest
    // is left to the continuation worker, which carries on with budgets of its own.
    let stored_now = posts::Entity::find().filter(posts::Column::Local.eq(false)).count(&a.state.db).await.unwrap();
    assert_eq!(stored_now, 21, "the reply and 20 ancestors");
    assert!(post(&a, beyond_budget["id"].as_str().unwrap()).await.is_none());
    beyond_fake.hold(beyond_budget["id"].as_str().unwrap(), false);
    let top = eventually(60, "the whole chain linked under the update", || async {
        let top = post(&a, notes[0]["id"].as_str().unwrap()).await?;
        (top.in_reply_to_post_id == Some(update.id)).then_some(top)
    })
    .await;
    assert_eq!(top.depth, 1);
    // Where the activity stopped, no fetch had failed or timed out on the held note: it
    // stopped at its budget, and the continuation fetched the rest.
    let stop = post(&a, notes[notes.len() - 1 - 20]["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(stop.parent_fetch_attempts, 0);
    let bottom = post(&a, last["id"].as_str().unwrap()).await.unwrap();
    assert_eq!((bottom.thread_root_id, bottom.depth), (Some(update.id), 50));
    let in_thread =
        posts::Entity::find().filter(posts::Column::ThreadRootId.eq(update.id)).count(&a.state.db).await.unwrap();
    assert_eq!(in_thread, 50);
    // Each ancestor was fetched once, and nothing is left pending.
    assert_eq!(fake1.note_fetches.load(Ordering::SeqCst) + fake2.note_fetches.load(Ordering::SeqCst), 49);
    let pending =
        posts::Entity::find().filter(posts::Column::ParentFetchAfter.is_not_null()).count(&a.state.db).await.unwrap();
    assert_eq!(pending, 0);
}

/// Two workers storing a reply and its parent at the same time (PostgreSQL: each transaction
/// blind to the other's row) leave the reply an orphan of a parent we have: the parent's
/// store could not see it to link it. The walk that follows links it, without fetching the
/// parent again. The test makes that state directly: the parent stored, then the reply
/// inserted as an orphan with its parent fetch due.
#[tokio::test]
async fn an_orphan_whose_parent_was_stored_meanwhile_is_linked_without_a_fetch() {
    use sea_orm::ActiveValue::Set;

    let (a, fake1, _fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let parent = ada.note("p", Some(&update.ap_id), None, "the parent");
    assert_eq!(ada.deliver(&a, &ada.activity("Create", parent.clone())).await, "done");
    let parent = post(&a, parent["id"].as_str().unwrap()).await.expect("the parent stored");
    let author = queries::actors::find_by_ap_id(&a.state.db, &ada.id).await.unwrap().unwrap();
    // A reply stored under the parent, then unlinked: an orphan of a post we have.
    let orphan = crate::threads::remote_reply(&a.state.db, &author, &parent, "<p>the reply</p>", None).await;
    let reply_id = orphan.ap_id.clone();
    posts::Entity::update(posts::ActiveModel {
        id: Set(orphan.id),
        in_reply_to_post_id: Set(None),
        thread_root_id: Set(None),
        depth: Set(0),
        ..Default::default()
    })
    .exec(&a.state.db)
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let fetched_before = fake1.note_fetches.load(Ordering::SeqCst);
    openhouse::services::thread_links::schedule_parent_fetch(
        &a.state.db,
        orphan.id,
        now,
        openhouse::services::thread_links::Reschedule::Continue,
    )
    .await
    .unwrap();
    let linked = eventually(30, "the orphan linked under its parent", || async {
        let reply = post(&a, &reply_id).await?;
        (reply.in_reply_to_post_id == Some(parent.id) && reply.parent_fetch_after.is_none()).then_some(reply)
    })
    .await;
    assert_eq!((linked.thread_root_id, linked.depth), (Some(update.id), 2));
    assert_eq!(fake1.note_fetches.load(Ordering::SeqCst), fetched_before, "the parent was fetched though we have it");
}

/// Replies that arrive before their parents are triaged once linked, as if they had come in
/// order: a reply mentioning the brand arrives first; the walk fetches its parent (which
/// does not mention the brand) and that one's parent (an answer to the brand's update); once
/// the chain is linked under the update, the brand's conversations inbox has all three.
#[tokio::test]
async fn replies_linked_after_their_parents_arrive_reach_the_conversations_inbox() {
    let (a, fake1, fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");
    let first = ada.note("first", Some(&update.ap_id), None, "an answer to the update");
    let first_id = first["id"].as_str().unwrap().to_owned();
    let second = bob.note("second", Some(&first_id), None, "an answer to ada");
    let second_id = second["id"].as_str().unwrap().to_owned();
    let third = ada.note("third", Some(&second_id), Some(&brand.ap_id), "@acme see this");
    let third_id = third["id"].as_str().unwrap().to_owned();
    assert_eq!(ada.deliver(&a, &ada.activity("Create", third)).await, "done");
    let bottom = eventually(30, "the chain linked under the update", || async {
        let bottom = post(&a, &third_id).await?;
        (bottom.thread_root_id == Some(update.id)).then_some(bottom)
    })
    .await;
    assert_eq!(bottom.depth, 3);
    let rows = conversations::Entity::find()
        .filter(conversations::Column::ActorId.eq(brand.id))
        .all(&a.state.db)
        .await
        .unwrap();
    for (ap_id, kind) in [(&first_id, "reply"), (&second_id, "reply"), (&third_id, "mention")] {
        let id = post(&a, ap_id).await.unwrap().id;
        let row = rows.iter().find(|r| r.post_id == id).map(|r| (r.kind.as_str(), r.thread_root_id));
        assert_eq!(row, Some((kind, update.id)), "{ap_id} in the brand's conversations: {rows:?}");
    }
    assert_eq!(rows.len(), 3, "{rows:?}");
}

#[tokio::test]
async fn cyclic_and_over_deep_chains_end_cleanly() {
    let (a, fake1, fake2) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");
    let mention = |mut note: Value, fake: &Fake| {
        note["cc"] = json!([brand.ap_id]);
        note["tag"] = json!([{"type": "Mention", "href": brand.ap_id, "name": "@acme"}]);
        fake.put(note["id"].as_str().unwrap(), note.clone());
        note
    };

    // A cycle: x answers y, y answers x. Both are stored; the walk stops.
    let x_id = format!("{}/notes/x", ada.id);
    let y_id = format!("{}/notes/y", bob.id);
    bob.note("y", Some(&x_id), None, "y");
    let x = mention(ada.note("x", Some(&y_id), None, "x"), &fake1);
    assert_eq!(ada.deliver(&a, &ada.activity("Create", x)).await, "done");
    let y = eventually(30, "y stored", || async { post(&a, &y_id).await }).await;
    let x = post(&a, &x_id).await.unwrap();
    assert_eq!(x.in_reply_to_post_id, None, "the cycle is not closed");
    assert_eq!(y.in_reply_to_post_id, Some(x.id));
    assert_eq!(fake1.note_fetches.load(Ordering::SeqCst) + fake2.note_fetches.load(Ordering::SeqCst), 1);

    // A chain of 130 under no root: the walk stops at the bound and stores what it got.
    let notes = chain([&ada, &bob], 130, None, "long");
    let last = notes.last().unwrap().clone();
    let author = if !notes.len().is_multiple_of(2) { &ada } else { &bob };
    let last = mention(last, &author.fake);
    assert_eq!(author.deliver(&a, &author.activity("Create", last.clone())).await, "done");
    let bound = openhouse::federation::remote_notes::MAX_CHAIN_DEPTH as usize;
    let top_index = notes.len() - 1 - bound;
    let top = eventually(90, "the chain walked to the bound", || async {
        let top = post(&a, notes[top_index]["id"].as_str().unwrap()).await?;
        let bottom = post(&a, last["id"].as_str().unwrap()).await?;
        (bottom.thread_root_id == Some(top.id) && top.parent_fetch_after.is_none()).then_some(top)
    })
    .await;
    assert!(post(&a, notes[top_index - 1]["id"].as_str().unwrap()).await.is_none(), "nothing above the bound");
    assert_eq!(top.in_reply_to_post_id, None);
    let bottom = post(&a, last["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(bottom.depth, bound as i32);
    // It stays ended: no continuation is pending, and no more fetches happen.
    let fetched = fake1.note_fetches.load(Ordering::SeqCst) + fake2.note_fetches.load(Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(fake1.note_fetches.load(Ordering::SeqCst) + fake2.note_fetches.load(Ordering::SeqCst), fetched);
    let pending =
        posts::Entity::find().filter(posts::Column::ParentFetchAfter.is_not_null()).count(&a.state.db).await.unwrap();
    assert_eq!(pending, 0);
}

/// Two Openhouse instances: B's staff member answers A's update with a post naming A's
/// brand (its `inReplyTo` set as the staff-reply work will), edits it and deletes it; A
/// threads it, follows the edit and keeps a tombstone.
#[tokio::test]
async fn an_openhouse_reply_from_another_instance_is_threaded_edited_and_deleted() {
    let (a, b) = crate::helpers::two_instances().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "v2 is out").await;
    let ada = b.create_actor("ada", ActorKind::Staff, "Ada").await;

    // B writes the answer, scheduled so that its reply link is set before it goes out.
    let text = format!("@acme@{} congratulations!", a.addr);
    let mentions = openhouse::federation::mentions::resolve_mentions(&b.state.federation, &text).await.unwrap();
    let draft = Draft {
        text: text.clone(),
        content_warning: None,
        visibility: Visibility::Public,
        scheduled_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        in_reply_to: None,
        mentioned: Vec::new(),
        uploads: Vec::new(),
    };
    let media_dir = b.state.config.data_dir.join("media");
    let draft = Draft { mentioned: mentions.clone(), ..draft };
    let answer = post_service::publish(&b.state.db, &b.state.urls, &media_dir, &ada, draft).await.unwrap();
    posts::Entity::update_many()
        .col_expr(posts::Column::InReplyToApId, sea_orm::sea_query::Expr::value(update.ap_id.as_str()))
        .col_expr(posts::Column::ScheduledAt, sea_orm::sea_query::Expr::value(chrono::Utc::now()))
        .filter(posts::Column::Id.eq(answer.id))
        .exec(&b.state.db)
        .await
        .unwrap();

    let stored = eventually(30, "A threads B's answer", || async { post(&a, &answer.ap_id).await }).await;
    assert_eq!(
        (stored.in_reply_to_post_id, stored.thread_root_id, stored.depth),
        (Some(update.id), Some(update.id), 1)
    );
    assert!(stored.content_html.contains("congratulations"));
    let rows = conversations::Entity::find().all(&a.state.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].actor_id, rows[0].post_id, rows[0].kind.as_str()), (brand.id, stored.id, "reply"));

    // B edits: A follows.
    post_service::edit(&b.state.db, &b.state.urls, &ada, answer.id, &format!("{text} (edited)"), None, &mentions)
        .await
        .unwrap();
    eventually(30, "A applies B's edit", || async {
        post(&a, &answer.ap_id).await.filter(|p| p.content_html.contains("edited") && p.edited_at.is_some())
    })
    .await;

    // B deletes: A keeps a tombstone in the thread and drops the inbox row.
    post_service::delete(&b.state.db, &ada, answer.id).await.unwrap();
    let gone = eventually(30, "A applies B's delete", || async {
        post(&a, &answer.ap_id).await.filter(|p| p.deleted_at.is_some())
    })
    .await;
    assert!(gone.content_html.is_empty());
    assert_eq!(gone.in_reply_to_post_id, Some(update.id));
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 0);
}

/// Makes A's copy of `actor` older than a day, as if the last fetch was yesterday (the
/// in-memory copy, which lives minutes, is long gone by then).
async fn age_actor(a: &TestApp, actor: &FakeActor) {
    let row = queries::actors::find_by_ap_id(&a.state.db, &actor.id).await.unwrap().unwrap();
    let mut row: openhouse::db::entities::actors::ActiveModel = row.into();
    row.last_fetched_at = sea_orm::ActiveValue::Set(Some(chrono::Utc::now() - chrono::Duration::hours(25)));
    sea_orm::ActiveModelTrait::update(row, &a.state.db).await.unwrap();
    a.state.federation.actors.remove(&actor.id);
}

#[tokio::test]
async fn remote_actors_are_cached_for_a_day_refreshed_after_and_forgotten_when_gone() {
    let (a, fake, _) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "Acme 3.0 beta").await;
    let eve = fake.actor("eve");
    let fetches = || fake.actor_fetches.load(Ordering::SeqCst);
    let stored_eve = || queries::actors::find_by_ap_id(&a.state.db, &eve.id);

    // First contact fetches the actor; later activities within a day use the stored copy.
    let reply = eve.note("1", Some(&update.ap_id), None, "<p>first</p>");
    assert_eq!(eve.deliver(&a, &eve.activity("Create", reply.clone())).await, "done");
    assert_eq!(fetches(), 1);
    let like = eve.activity("Like", json!(update.ap_id));
    assert_eq!(eve.deliver(&a, &like).await, "done");
    age_actor(&a, &eve).await;
    let mut renamed = eve.doc.clone();
    renamed["name"] = json!("Eve, renamed");
    fake.put(&eve.id, renamed);
    assert_eq!(fetches(), 1, "a fresh copy is not fetched again");

    // A day later the next activity refreshes it (F6).
    let second = eve.note("2", Some(&update.ap_id), None, "<p>second</p>");
    assert_eq!(eve.deliver(&a, &eve.activity("Create", second)).await, "done");
    assert_eq!(fetches(), 2, "a copy older than 24 h is fetched again");
    let stored = stored_eve().await.unwrap().unwrap();
    assert_eq!(stored.display_name, "Eve, renamed");
    assert!(stored.last_fetched_at.unwrap() > chrono::Utc::now() - chrono::Duration::minutes(5));

    // When the actor's server says 410, the cached copy is deleted: its notes become
    // tombstones in the thread, and its requests are no longer accepted.
    age_actor(&a, &eve).await;
    fake.make_gone(&eve.id);
    let third = eve.note("3", Some(&update.ap_id), None, "<p>third</p>");
    let status = eve.send(&a, &eve.activity("Create", third.clone())).await;
    assert_eq!(status, 401, "an actor that is gone cannot be verified");
    assert_eq!(fetches(), 3);
    let stored = stored_eve().await.unwrap().unwrap();
    assert!(stored.deleted_at.is_some(), "the cached actor is marked deleted");
    let first = post(&a, reply["id"].as_str().unwrap()).await.unwrap();
    assert!(first.deleted_at.is_some() && first.content_html.is_empty(), "its notes are tombstones");
    assert!(post(&a, third["id"].as_str().unwrap()).await.is_none(), "nothing from it is stored");
    assert_eq!(post(&a, &update.ap_id).await.unwrap().likes_count, 0, "its like is gone with it");
}

#[tokio::test]
async fn one_round_stores_its_creates_together_and_keeps_their_order() {
    // The inbox worker is run by hand, so every activity below is in the same round.
    let a = TestApp::spawn_with(Options {
        ip: Some("127.0.0.2"),
        allow_private_fetch: Some(FAKE_HOSTS.into()),
        no_workers: true,
    })
    .await;
    let fake = Fake::start("127.0.0.4").await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "Acme 3.0 beta: what breaks?").await;
    let eve = fake.actor("eve");

    let first = eve.note("1", Some(&update.ap_id), None, "<p>first</p>");
    let nested = eve.note("2", first["id"].as_str(), None, "<p>an answer to the first, same round</p>");
    let mut edited = first.clone();
    edited["content"] = json!("<p>first, edited</p>");
    edited["updated"] = json!("2026-11-23T11:00:00Z");
    let elsewhere = eve.note("3", Some("http://127.0.0.4/users/someone/notes/9"), None, "<p>not ours</p>");
    let round = [
        eve.activity("Create", first.clone()),
        eve.activity("Create", nested.clone()),
        eve.activity("Update", edited),
        eve.activity("Create", elsewhere.clone()),
        eve.activity("Create", first.clone()),
        eve.activity("Like", json!(update.ap_id)),
        eve.activity("Create", eve.note("4", Some(&update.ap_id), None, "<p>after the like</p>")),
    ];
    for activity in &round {
        assert_eq!(eve.send(&a, activity).await, 202, "{activity}");
    }
    let handled = openhouse::federation::inbox::process_batch(&a.state.federation).await.unwrap();
    assert_eq!(handled, round.len());

    let states: Vec<String> = {
        let mut states = Vec::new();
        for activity in &round {
            states.push(processed(&a, activity["id"].as_str().unwrap()).await);
        }
        states
    };
    assert_eq!(states, ["done", "done", "done", "ignored", "ignored", "done", "done"]);
    let first = post(&a, first["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(first.content_html, "<p>first, edited</p>", "the Update found the note its Create stored");
    let nested = post(&a, nested["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(nested.in_reply_to_post_id, Some(first.id), "a parent stored earlier in the same round");
    assert_eq!((nested.thread_root_id, nested.depth), (Some(update.id), 2));
    assert!(post(&a, elsewhere["id"].as_str().unwrap()).await.is_none());
    assert_eq!(post(&a, &update.ap_id).await.unwrap().likes_count, 1);
    let brand_inbox = conversations::Entity::find()
        .filter(conversations::Column::ActorId.eq(brand.id))
        .count(&a.state.db)
        .await
        .unwrap();
    assert_eq!(brand_inbox, 3, "three replies in the brand's thread reached its conversations inbox");
}

#[tokio::test]
async fn a_note_at_fault_fails_alone_and_the_rest_of_its_batch_is_stored() {
    use openhouse::services::remote_notes::{IncomingNote, Stored};
    let (a, fake, _) = instance().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = publish(&a, &brand, "Acme 3.0 beta").await;
    let eve = fake.actor("eve");
    let first = eve.note("1", Some(&update.ap_id), None, "<p>first</p>");
    assert_eq!(eve.deliver(&a, &eve.activity("Create", first)).await, "done");
    let author_id = queries::actors::find_by_ap_id(&a.state.db, &eve.id).await.unwrap().unwrap().id;
    let note = |n: u32, author_id: i64| IncomingNote {
        ap_id: format!("{}/notes/batch-{n}", eve.id),
        author_id,
        url: None,
        content_html: format!("<p>batch {n}</p>"),
        summary: None,
        sensitive: false,
        visibility: "public".into(),
        in_reply_to: Some(update.ap_id.clone()),
        published: chrono::Utc::now(),
        updated: None,
        attachments_json: None,
        mentions: Vec::new(),
    };
    // The second names an author that does not exist: its insert breaks a foreign key.
    let batch = vec![note(1, author_id), note(2, i64::MAX), note(3, author_id)];
    let kept = openhouse::federation::remote_notes::store_each_or_all(&a.state.federation, batch).await;
    assert_eq!(kept.len(), 3);
    assert!(matches!(kept[0], Ok(Some(Stored::Created(_)))), "{:?}", kept[0]);
    assert!(kept[1].is_err(), "{:?}", kept[1]);
    assert!(matches!(kept[2], Ok(Some(Stored::Created(_)))), "{:?}", kept[2]);
    assert!(post(&a, &format!("{}/notes/batch-1", eve.id)).await.is_some());
    assert!(post(&a, &format!("{}/notes/batch-2", eve.id)).await.is_none());
    assert!(post(&a, &format!("{}/notes/batch-3", eve.id)).await.is_some());
}
