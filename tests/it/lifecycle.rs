//! What the inbox keeps and for how long, and how a dead host comes back, over HTTP against
//! a real instance and a fake remote server on loopback:
//!
//! - I12: a processed activity (done, ignored, failed for good) loses its payload but its id
//!   still deduplicates a resend; the retention task purges rows processed longer ago than
//!   `inbox_retention_days`, never a pending one.
//! - I13: a `Delete` of a note we never stored makes its later `Create` by the same actor
//!   refused, for a while; a `Create` of another id, or after the window, is stored.
//! - D7: a host unavailable after 7 failure days gets one probe delivery a day; a success
//!   revives it, a failure keeps it unavailable; a verified request from it revives it at
//!   once.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, AtomicUsize, Ordering},
    },
    time::{Duration as StdDuration, SystemTime},
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use chrono::{Duration, Utc};
use openhouse::{
    crypto::generate_rsa_keys,
    db::{
        entities::{activities, actors, deleted_objects, deliveries, hosts, inbox_activities, posts},
        queries,
    },
    domain::{ActorKind, Visibility},
    federation::{
        delivery::{
            expand::host_of,
            hosts::{Gate, PROBE_EVERY},
            worker::{DELIVERED, FAILED},
        },
        inbox::PENDING,
        retention::{self, Retention},
        signatures::{SigningKey, sign_request},
    },
    services::posts::{self as post_service, Draft},
};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::watch};
use url::Url;

use crate::helpers::{Options, TestApp, eventually};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A remote server: serves documents on GET, answers POSTs with `status` and counts them.
#[derive(Clone)]
struct Fake {
    base: String,
    docs: Arc<Mutex<HashMap<String, Value>>>,
    posts: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
}

async fn serve(State(fake): State<Fake>, method: axum::http::Method, uri: Uri) -> Response {
    if method == axum::http::Method::POST {
        fake.posts.fetch_add(1, Ordering::SeqCst);
        return StatusCode::from_u16(fake.status.load(Ordering::SeqCst)).unwrap().into_response();
    }
    match fake.docs.lock().unwrap().get(uri.path()).cloned() {
        Some(doc) => ([(header::CONTENT_TYPE, "application/activity+json")], doc.to_string()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Fake {
    async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.7", 0)).await.unwrap();
        let fake = Fake {
            base: format!("http://{}", listener.local_addr().unwrap()),
            docs: Arc::default(),
            posts: Arc::default(),
            status: Arc::new(AtomicU16::new(202)),
        };
        let app = Router::new().fallback(serve).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    /// `host[:port]`, as delivery health keys it.
    fn host(&self) -> String {
        host_of(&Url::parse(&self.base).unwrap())
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn posts_received(&self) -> usize {
        self.posts.load(Ordering::SeqCst)
    }

    /// A remote actor with a fresh key, served here.
    fn actor(&self, name: &str) -> FakeActor {
        let id = format!("{}/users/{name}", self.base);
        let keys = generate_rsa_keys().unwrap();
        let key =
            SigningKey::from_pkcs8_pem(Url::parse(&format!("{id}#main-key")).unwrap(), &keys.private_pem).unwrap();
        let doc = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": format!("{id}/inbox"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": keys.public_pem},
        });
        self.docs.lock().unwrap().insert(Url::parse(&id).unwrap().path().to_owned(), doc);
        FakeActor { id, key, seq: AtomicUsize::new(0) }
    }
}

/// A remote actor that signs what it sends.
struct FakeActor {
    id: String,
    key: SigningKey,
    seq: AtomicUsize,
}

impl FakeActor {
    fn new_id(&self, what: &str) -> String {
        format!("{}/{what}/{}", self.id, self.seq.fetch_add(1, Ordering::SeqCst))
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

    /// A public reply to `in_reply_to` with the id `id`.
    fn note(&self, id: &str, in_reply_to: &str) -> Value {
        json!({
            "id": id,
            "type": "Note",
            "attributedTo": self.id,
            "content": "<p>hello</p>",
            "inReplyTo": in_reply_to,
            "published": "2026-12-07T10:00:00Z",
            "to": [PUBLIC],
        })
    }

    /// Signs and POSTs `activity` to A's shared inbox; the status.
    async fn send(&self, a: &TestApp, activity: &Value) -> u16 {
        let body = activity.to_string().into_bytes();
        let inbox = Url::parse(&format!("{}/inbox", a.base)).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
        sign_request(&self.key, &reqwest::Method::POST, &inbox, &mut headers, Some(&body), SystemTime::now()).unwrap();
        headers.remove(reqwest::header::HOST);
        let client = reqwest::Client::builder().timeout(StdDuration::from_secs(60)).build().unwrap();
        client.post(inbox).headers(headers).body(body).send().await.unwrap().status().as_u16()
    }
}

/// An instance that may reach the fake server, its brand, and the fake server.
async fn instance() -> (TestApp, actors::Model, Fake) {
    let a = TestApp::spawn_with(Options {
        ip: Some("127.0.0.6"),
        allow_private_fetch: Some("127.0.0.7/32:*".into()),
        ..Default::default()
    })
    .await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    (a, brand, Fake::start().await)
}

async fn publish(a: &TestApp, author: &actors::Model, text: &str) -> posts::Model {
    let draft = Draft {
        text: text.into(),
        content_warning: None,
        visibility: Visibility::Public,
        scheduled_at: None,
        in_reply_to: None,
    };
    let media_dir = a.state.config.data_dir.join("media");
    post_service::publish(&a.state.db, &a.state.urls, &media_dir, author, draft, &[], Vec::new()).await.unwrap()
}

async fn inbox_row(a: &TestApp, id: &str) -> Option<inbox_activities::Model> {
    inbox_activities::Entity::find().filter(inbox_activities::Column::ApId.eq(id)).one(&a.state.db).await.unwrap()
}

/// Waits until the worker has finished with the inbox row of `id`; the row.
async fn processed(a: &TestApp, id: &str) -> inbox_activities::Model {
    eventually(30, &format!("the worker to finish {id}"), || async {
        inbox_row(a, id).await.filter(|row| row.state != PENDING)
    })
    .await
}

async fn stored_post(a: &TestApp, ap_id: &str) -> Option<posts::Model> {
    queries::posts::find_by_ap_id(&a.state.db, ap_id).await.unwrap()
}

// ---------------------------------------------------------------------------------------
// I12
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_processed_activity_keeps_its_id_but_not_its_payload() {
    let (a, _brand, fake) = instance().await;
    let ada = fake.actor("ada");
    let acme = a.actor_url("acme");

    let follow = ada.activity("Follow", json!(acme));
    let mut listen = ada.activity("Listen", json!(acme));
    listen["type"] = json!("Listen");
    let forged = ada.activity(
        "Create",
        json!({"id": format!("{}/notes/forged", ada.id), "type": "Note",
        "attributedTo": acme, "content": "x", "to": [PUBLIC]}),
    );
    for activity in [&follow, &listen, &forged] {
        assert_eq!(ada.send(&a, activity).await, 202);
    }
    for (activity, state) in [(&follow, "done"), (&listen, "ignored"), (&forged, "failed")] {
        let row = processed(&a, activity["id"].as_str().unwrap()).await;
        assert_eq!(row.state, state, "{activity}");
        assert_eq!(row.payload, "", "the payload of a {state} activity is dropped");
    }

    // A resend of the same id is still a duplicate: not stored again, not processed again.
    let before = inbox_row(&a, follow["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(ada.send(&a, &follow).await, 202);
    let after = inbox_row(&a, follow["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(after, before, "the resend changed nothing");
    assert_eq!(inbox_activities::Entity::find().count(&a.state.db).await.unwrap(), 3);
}

#[tokio::test]
async fn the_retention_task_purges_old_processed_rows_and_never_a_pending_one() {
    let (a, _brand, fake) = instance().await;
    let ada = fake.actor("ada");
    let acme = a.actor_url("acme");
    let db = &a.state.db;
    let retention = Retention::from_config(&a.state.config);
    assert_eq!(retention.inbox, Duration::days(7), "the default retention");

    // Three processed activities; then a backlog row the worker will not reach for a day.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut listen = ada.activity("Listen", json!(acme));
        listen["type"] = json!("Listen");
        assert_eq!(ada.send(&a, &listen).await, 202);
        ids.push(listen["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        processed(&a, id).await;
    }
    let now = Utc::now();
    let pending_id = format!("{}/activities/waiting", ada.id);
    inbox_activities::ActiveModel {
        ap_id: Set(pending_id.clone()),
        activity_type: Set("Listen".into()),
        actor_ap_id: Set(ada.id.clone()),
        payload: Set("{}".into()),
        state: Set(PENDING.into()),
        attempts: Set(3),
        received_at: Set(now - Duration::days(30)),
        available_at: Set(now + Duration::days(1)),
        lease_until: Set(None),
        processed_at: Set(None),
        last_error: Set(Some("temporary: the actor's server is down".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    // Two were processed longer ago than the retention, one just inside it.
    for (id, age) in ids.iter().zip([Duration::days(8), Duration::days(30), Duration::days(6)]) {
        let mut row = inbox_row(&a, id).await.unwrap().into_active_model();
        row.processed_at = Set(Some(now - age));
        row.received_at = Set(now - age);
        row.update(db).await.unwrap();
    }

    // Two remembered Deletes (I13): one past its 48 hours, one recent.
    let ada_row = queries::actors::find_by_ap_id(db, &ada.id).await.unwrap().unwrap();
    for (note, age) in [("old", Duration::hours(49)), ("recent", Duration::hours(1))] {
        deleted_objects::ActiveModel {
            ap_id: Set(format!("{}/notes/{note}", ada.id)),
            actor_id: Set(ada_row.id),
            deleted_at: Set(now - age),
        }
        .insert(db)
        .await
        .unwrap();
    }
    let remembered = |note: &str| deleted_objects::Entity::find_by_id(format!("{}/notes/{note}", ada.id)).one(db);

    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(retention::run(db.clone(), retention, stopped));
    eventually(30, "the old rows purged", || async {
        (inbox_row(&a, &ids[0]).await.is_none()
            && inbox_row(&a, &ids[1]).await.is_none()
            && remembered("old").await.unwrap().is_none())
        .then_some(())
    })
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();
    assert!(inbox_row(&a, &ids[2]).await.is_some(), "a row inside the retention is kept");
    let waiting = inbox_row(&a, &pending_id).await.expect("a pending row is never purged");
    assert_eq!(waiting.payload, "{}");
    assert!(remembered("recent").await.unwrap().is_some(), "a Delete inside its window is kept");
}

// ---------------------------------------------------------------------------------------
// I13
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_delete_before_its_create_keeps_the_note_out_for_a_while() {
    let (a, brand, fake) = instance().await;
    let ada = fake.actor("ada");
    let bob = fake.actor("bob");
    let update = publish(&a, &brand, "v2 is out").await;
    let deleted_id = format!("{}/notes/early", ada.id);

    // The Delete overtakes its Create.
    let delete = ada.activity("Delete", json!(deleted_id));
    assert_eq!(ada.send(&a, &delete).await, 202);
    processed(&a, delete["id"].as_str().unwrap()).await;
    let create = ada.activity("Create", ada.note(&deleted_id, &update.ap_id));
    assert_eq!(ada.send(&a, &create).await, 202);
    let row = processed(&a, create["id"].as_str().unwrap()).await;
    assert_eq!(row.state, "ignored", "{:?}", row.last_error);
    assert!(stored_post(&a, &deleted_id).await.is_none(), "a deleted note was stored");
    // Nor does an Update bring it in.
    let edit = ada.activity("Update", ada.note(&deleted_id, &update.ap_id));
    assert_eq!(ada.send(&a, &edit).await, 202);
    processed(&a, edit["id"].as_str().unwrap()).await;
    assert!(stored_post(&a, &deleted_id).await.is_none(), "an Update stored a deleted note");

    // Another note of the same actor is stored.
    let other_id = format!("{}/notes/other", ada.id);
    let other = ada.activity("Create", ada.note(&other_id, &update.ap_id));
    assert_eq!(ada.send(&a, &other).await, 202);
    assert_eq!(processed(&a, other["id"].as_str().unwrap()).await.state, "done");
    assert!(stored_post(&a, &other_id).await.is_some());

    // Only the owner's Delete counts: Bob (same server) deleting Ada's note changes nothing.
    let hers = format!("{}/notes/hers", ada.id);
    let bobs_delete = bob.activity("Delete", json!(hers));
    assert_eq!(bob.send(&a, &bobs_delete).await, 202);
    processed(&a, bobs_delete["id"].as_str().unwrap()).await;
    let hers_create = ada.activity("Create", ada.note(&hers, &update.ap_id));
    assert_eq!(ada.send(&a, &hers_create).await, 202);
    assert_eq!(processed(&a, hers_create["id"].as_str().unwrap()).await.state, "done");
    assert!(stored_post(&a, &hers).await.is_some(), "another actor's Delete kept Ada's note out");

    // After the window, the same note may be created again.
    let mut remembered = deleted_objects::Entity::find_by_id(deleted_id.clone())
        .one(&a.state.db)
        .await
        .unwrap()
        .expect("the Delete is remembered")
        .into_active_model();
    remembered.deleted_at = Set(Utc::now() - Duration::hours(49));
    remembered.update(&a.state.db).await.unwrap();
    let again = ada.activity("Create", ada.note(&deleted_id, &update.ap_id));
    assert_eq!(ada.send(&a, &again).await, 202);
    assert_eq!(processed(&a, again["id"].as_str().unwrap()).await.state, "done");
    assert!(stored_post(&a, &deleted_id).await.is_some(), "stored once the Delete is forgotten");
}

// ---------------------------------------------------------------------------------------
// D7
// ---------------------------------------------------------------------------------------

/// A follower of `brand` whose shared inbox is on the fake server.
async fn follower_on(a: &TestApp, brand: &actors::Model, fake: &Fake) {
    let now = Utc::now();
    let domain = fake.host();
    let fan = queries::actors::upsert_remote(
        &a.state.db,
        queries::actors::RemoteActorRow {
            shared_inbox_url: Some(format!("{}/inbox", fake.base)),
            now,
            ..queries::actors::RemoteActorRow::person(&format!("{}/users/fan", fake.base), "fan", &domain)
        },
    )
    .await
    .unwrap();
    queries::follows::insert(&a.state.db, fan.id, brand.id, &format!("{}/follows/1", fake.base), "accepted", now)
        .await
        .unwrap();
}

/// Publishes a post and waits until its delivery to the fake server is finished or has
/// been attempted once; the delivery row.
async fn publish_and_settle(a: &TestApp, brand: &actors::Model, text: &str) -> deliveries::Model {
    let post = publish(a, brand, text).await;
    a.state.federation.outbox_wakeup.notify_one();
    eventually(30, &format!("the delivery of {text:?} settled"), || async {
        let activity = activities::Entity::find()
            .filter(activities::Column::ObjectApId.eq(post.ap_id.as_str()))
            .one(&a.state.db)
            .await
            .unwrap()?;
        let row = deliveries::Entity::find()
            .filter(deliveries::Column::ActivityId.eq(activity.id))
            .one(&a.state.db)
            .await
            .unwrap()?;
        (row.state != "pending" || row.attempts > 0).then_some(row)
    })
    .await
}

async fn host_row(a: &TestApp, host: &str) -> Option<hosts::Model> {
    hosts::Entity::find_by_id(host.to_owned()).one(&a.state.db).await.unwrap()
}

/// Another day has passed for the host: its probe is due (as the table and this process's
/// copy, reloaded as `keep_fresh` does, both say).
async fn a_day_passes(a: &TestApp, host: &str) {
    let mut row = host_row(a, host).await.unwrap().into_active_model();
    row.probe_after = Set(Some(Utc::now() - Duration::minutes(1)));
    row.update(&a.state.db).await.unwrap();
    a.state.federation.hosts.reload(&a.state.db).await.unwrap();
}

#[tokio::test]
async fn a_dead_host_gets_one_probe_a_day_and_its_deliveries_resume_once_it_answers() {
    let (a, brand, fake) = instance().await;
    follower_on(&a, &brand, &fake).await;
    let host = fake.host();
    let health = &a.state.federation.hosts;
    let now = Utc::now();

    // The host failed on six earlier days (the failure path, with its own clock)…
    for day in (1..=6).rev() {
        health.record_failure(&a.state.db, &host, now - Duration::days(day), 1.0).await.unwrap();
    }
    assert_eq!(health.gate(&host, Utc::now()), Gate::Open, "six failure days are not dead yet");
    // …and fails today, for real: the seventh day makes it unavailable.
    fake.answer(500);
    let first = publish_and_settle(&a, &brand, "day seven").await;
    assert_eq!(first.last_status, Some(500));
    let dead = host_row(&a, &host).await.unwrap();
    assert!(dead.unavailable, "{dead:?}");
    assert!(dead.probe_after.unwrap() > Utc::now() + PROBE_EVERY - Duration::minutes(5), "{dead:?}");
    let sent = fake.posts_received();

    // Unavailable: skipped without an attempt.
    let skipped = publish_and_settle(&a, &brand, "while dead").await;
    assert_eq!((skipped.state.as_str(), skipped.last_error.as_deref()), (FAILED, Some("host unavailable")));
    assert_eq!(fake.posts_received(), sent, "nothing sent to an unavailable host");

    // A day later one delivery probes it; it still fails: unavailable until the next day.
    a_day_passes(&a, &host).await;
    let probe = publish_and_settle(&a, &brand, "probe one").await;
    assert_eq!(probe.last_status, Some(500), "the probe was sent: {probe:?}");
    assert_eq!(fake.posts_received(), sent + 1);
    let still = host_row(&a, &host).await.unwrap();
    assert!(still.unavailable);
    assert!(still.probe_after.unwrap() > Utc::now() + PROBE_EVERY - Duration::minutes(5), "{still:?}");
    let skipped = publish_and_settle(&a, &brand, "after a failed probe").await;
    assert_eq!(skipped.last_error.as_deref(), Some("host unavailable"));
    assert_eq!(fake.posts_received(), sent + 1, "one probe a day");

    // The next day's probe succeeds: the host is revived and deliveries flow again.
    fake.answer(202);
    a_day_passes(&a, &host).await;
    let probe = publish_and_settle(&a, &brand, "probe two").await;
    eventually(10, "the probe recorded as delivered", || async {
        let row = deliveries::Entity::find_by_id(probe.id).one(&a.state.db).await.unwrap()?;
        (row.state == DELIVERED).then_some(())
    })
    .await;
    assert!(host_row(&a, &host).await.is_none(), "the host was revived");
    assert_eq!(health.gate(&host, Utc::now()), Gate::Open);
    let flowing = publish_and_settle(&a, &brand, "back to normal").await;
    assert_ne!(flowing.state, FAILED, "{flowing:?}");
    eventually(10, "the next delivery arrives", || async { (fake.posts_received() >= sent + 3).then_some(()) }).await;
}

#[tokio::test]
async fn a_verified_request_from_a_dead_host_revives_it_at_once() {
    let (a, brand, fake) = instance().await;
    follower_on(&a, &brand, &fake).await;
    let host = fake.host();
    let health = &a.state.federation.hosts;
    let now = Utc::now();
    for day in (0..7).rev() {
        health.record_failure(&a.state.db, &host, now - Duration::days(day), 1.0).await.unwrap();
    }
    assert_eq!(health.gate(&host, Utc::now()), Gate::Unavailable);
    let skipped = publish_and_settle(&a, &brand, "while dead").await;
    assert_eq!(skipped.last_error.as_deref(), Some("host unavailable"));
    assert_eq!(fake.posts_received(), 0);

    // Someone on that host sends us a signed activity: the host is alive.
    let ada = fake.actor("ada");
    let mut listen = ada.activity("Listen", json!(a.actor_url("acme")));
    listen["type"] = json!("Listen");
    assert_eq!(ada.send(&a, &listen).await, 202);
    assert!(host_row(&a, &host).await.is_none(), "revived before the answer");
    assert_eq!(health.gate(&host, Utc::now()), Gate::Open);

    let delivered = publish_and_settle(&a, &brand, "welcome back").await;
    assert_ne!(delivered.state, FAILED, "{delivered:?}");
    eventually(10, "the delivery arrives", || async { (fake.posts_received() == 1).then_some(()) }).await;
}
