//! The inbox promises of FEDERATION.md §4, each over HTTP with a request signed (or
//! mis-signed) exactly as a peer would, asserting the status and that nothing was stored.

use std::time::{Duration, SystemTime};

use openhouse::{
    db::{entities::inbox_activities, queries},
    domain::ActorKind,
    federation::{
        inbox::writer::{Inserted, NewInboxRow},
        signatures::SigningKey,
    },
};
use reqwest::header::{HeaderMap, HeaderValue};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use url::Url;

use crate::support::{Options, TestApp, eventually, signing, two_instances};

/// A signer speaking for one of B's actors, and the inbox on A it talks to.
pub(crate) struct Peer {
    pub key: SigningKey,
    pub actor: String,
    pub inbox: Url,
    pub client: reqwest::Client,
}

impl Peer {
    pub async fn new(b: &TestApp, username: &str, a: &TestApp, target: &str) -> Self {
        let actor = queries::actors::find_local_by_username(&b.state.db, username).await.unwrap().unwrap();
        let pem = queries::actors::private_key(&b.state.db, actor.id).await.unwrap().unwrap();
        let key = SigningKey::from_pkcs8_pem(Url::parse(&actor.public_key_id).unwrap(), &pem).unwrap();
        let inbox = Url::parse(&format!("{}/users/{target}/inbox", a.base)).unwrap();
        Self { key, actor: actor.ap_id, inbox, client: reqwest::Client::new() }
    }

    pub fn follow(&self, id: &str, object: &str) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/{id}", self.actor.rsplit_once("/users/").unwrap().0),
            "type": "Follow",
            "actor": self.actor,
            "object": object,
        })
    }

    /// Signs `body` as of `at`, lets `tamper` change the request, and sends it.
    pub async fn send_with(
        &self,
        key: &SigningKey,
        body: &[u8],
        at: SystemTime,
        tamper: impl FnOnce(&mut HeaderMap, &mut Vec<u8>),
    ) -> u16 {
        signing::post_signed(&self.client, key, &self.inbox, body, at, tamper).await.status().as_u16()
    }

    pub async fn send(&self, activity: &Value) -> u16 {
        self.send_with(&self.key, activity.to_string().as_bytes(), SystemTime::now(), |_, _| {}).await
    }
}

pub(crate) async fn stored(app: &TestApp) -> u64 {
    inbox_activities::Entity::find().count(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn a_signed_activity_is_stored_once_and_answered_202() {
    let (a, b) = two_instances().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let peer = Peer::new(&b, "ada", &a, "acme").await;
    let follow = peer.follow("follows/1", &a.actor_url("acme"));

    assert_eq!(peer.send(&follow).await, 202);
    assert_eq!(stored(&a).await, 1);
    // I10: the same id again is accepted and changes nothing.
    assert_eq!(peer.send(&follow).await, 202);
    assert_eq!(stored(&a).await, 1);
    // The shared inbox takes it too.
    let shared = Peer { inbox: Url::parse(&format!("{}/inbox", a.base)).unwrap(), ..peer };
    assert_eq!(shared.send(&shared.follow("follows/2", &a.actor_url("acme"))).await, 202);
    assert_eq!(stored(&a).await, 2);
    // An unknown type is accepted, stored, and ignored by the worker.
    let mut listen = shared.follow("listens/1", &a.actor_url("acme"));
    listen["type"] = json!("Listen");
    assert_eq!(shared.send(&listen).await, 202);
    eventually(20, "the Listen marked ignored", || async {
        let rows = inbox_activities::Entity::find().all(&a.state.db).await.unwrap();
        rows.iter()
            .any(|r| r.activity_type == "Listen" && r.state == inbox_activities::InboxState::Ignored)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn every_bad_request_is_refused_and_stores_nothing() {
    let (a, b) = two_instances().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    b.create_actor("bob", ActorKind::Staff, "Bob").await;
    let peer = Peer::new(&b, "ada", &a, "acme").await;
    let acme = a.actor_url("acme");
    let follow = peer.follow("follows/x", &acme);
    let body = follow.to_string().into_bytes();
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);

    // (name, status, request)
    let mut results: Vec<(&str, u16, u16)> = Vec::new();
    let mut check = |name: &'static str, want: u16, got: u16| results.push((name, want, got));

    // I1: over 1 MiB, refused before anything is read.
    let mut huge = follow.clone();
    huge["padding"] = json!("x".repeat(1024 * 1024));
    check("I1 body over 1 MiB", 413, peer.send(&huge).await);
    // I2: unsigned, and garbage signatures.
    check(
        "I2 no signature",
        401,
        peer.send_with(&peer.key, &body, now, |h, _| {
            h.remove("signature");
        })
        .await,
    );
    check(
        "I2 malformed signature",
        400,
        peer.send_with(&peer.key, &body, now, |h, _| {
            h.insert("signature", HeaderValue::from_static("this is not a signature"));
        })
        .await,
    );
    check(
        "I2 unknown algorithm",
        401,
        peer.send_with(&peer.key, &body, now, |h, _| {
            let sig = h["signature"].to_str().unwrap().replace("rsa-sha256", "rsa-md5");
            h.insert("signature", HeaderValue::from_str(&sig).unwrap());
        })
        .await,
    );
    // I3: a POST signature that does not cover the digest.
    check(
        "I3 digest not covered",
        401,
        peer.send_with(&peer.key, &body, now, |h, _| {
            let sig = h["signature"].to_str().unwrap().replace(" digest", "");
            h.insert("signature", HeaderValue::from_str(&sig).unwrap());
        })
        .await,
    );
    // I4: the body changed after signing.
    check(
        "I4 body tampered",
        401,
        peer.send_with(&peer.key, &body, now, |_, b| {
            b.extend_from_slice(b" ");
        })
        .await,
    );
    check(
        "I4 digest header wrong",
        401,
        peer.send_with(&peer.key, &body, now, |h, _| {
            h.insert("digest", HeaderValue::from_static("SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
        })
        .await,
    );
    // I5: stale, future and unparseable dates.
    check("I5 date 2 h in the future", 401, peer.send_with(&peer.key, &body, now + 2 * hour, |_, _| {}).await);
    check(
        "I5 date 66 min old",
        401,
        peer.send_with(&peer.key, &body, now - Duration::from_secs(66 * 60), |_, _| {}).await,
    );
    check(
        "I5 unparseable date",
        401,
        peer.send_with(&peer.key, &body, now, |h, _| {
            h.insert("date", HeaderValue::from_static("yesterday"));
        })
        .await,
    );
    // I6: ada's key speaking for bob.
    let mut as_bob = follow.clone();
    as_bob["actor"] = json!(b.actor_url("bob"));
    check("I6 key of another actor", 401, peer.send(&as_bob).await);
    // I8: ids on our own domain, and ids on another host than the actor.
    let mut ours = follow.clone();
    ours["id"] = json!(format!("{}/activities/forged", a.base));
    check("I8 id on our domain", 400, peer.send(&ours).await);
    let mut elsewhere = follow.clone();
    elsewhere["id"] = json!("https://elsewhere.example/follows/1");
    check("I8 id on another host", 400, peer.send(&elsewhere).await);
    let mut local_actor = follow.clone();
    local_actor["actor"] = json!(acme);
    check("I8 actor on our domain", 400, peer.send(&local_actor).await);
    // Malformed activities with valid signatures.
    check("not JSON", 400, peer.send_with(&peer.key, b"{not json", now, |_, _| {}).await);
    check("no id", 400, peer.send(&json!({ "type": "Follow", "actor": peer.actor, "object": acme })).await);
    check(
        "array actor",
        400,
        peer.send(&json!({ "id": follow["id"], "type": "Follow", "actor": [1, 2], "object": acme })).await,
    );

    for (name, want, got) in &results {
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(stored(&a).await, 0, "nothing refused was stored");
}

#[tokio::test]
async fn a_bad_key_triggers_one_refetch_per_five_minutes() {
    let (a, b) = two_instances().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let peer = Peer::new(&b, "ada", &a, "acme").await;
    // Prime A's cache with ada (a valid request).
    assert_eq!(peer.send(&peer.follow("follows/ok", &a.actor_url("acme"))).await, 202);

    // A key ada does not have, claiming ada's key id.
    let (impostor, _) = signing::key_named(peer.key.key_id().as_str());
    let body = peer.follow("follows/forged", &a.actor_url("acme")).to_string().into_bytes();
    let before = queries::actors::find_by_ap_id(&a.state.db, &peer.actor).await.unwrap().unwrap();
    assert_eq!(peer.send_with(&impostor, &body, SystemTime::now(), |_, _| {}).await, 401);
    // The failure re-fetched the actor (the fetch stamps the row) ...
    let cached = queries::actors::find_by_ap_id(&a.state.db, &peer.actor).await.unwrap().unwrap();
    let first = cached.last_fetched_at.expect("fetched");
    assert!(Some(first) > before.last_fetched_at, "the failure re-fetched the key");
    // ... and a second failure within 5 minutes does not: no fetch, no write.
    for _ in 0..3 {
        assert_eq!(peer.send_with(&impostor, &body, SystemTime::now(), |_, _| {}).await, 401);
    }
    let cached = queries::actors::find_by_ap_id(&a.state.db, &peer.actor).await.unwrap().unwrap();
    assert_eq!(cached.last_fetched_at, Some(first), "no second re-fetch within 5 minutes");
    assert_eq!(stored(&a).await, 1);
    // The real actor still gets through, with its own key.
    assert_eq!(peer.send(&peer.follow("follows/after", &a.actor_url("acme"))).await, 202);
}

/// Group commit (docs/adr/0008): many concurrent requests, distinct and duplicate, each get
/// the right answer and every activity is stored exactly once.
#[tokio::test]
async fn concurrent_distinct_and_duplicate_posts_are_each_stored_once() {
    let (a, b) = two_instances().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let peer = std::sync::Arc::new(Peer::new(&b, "ada", &a, "acme").await);
    let target = a.actor_url("acme");
    // 40 distinct activities, each sent 3 times, all at once.
    let mut sends = tokio::task::JoinSet::new();
    for copy in 0..3 {
        for n in 0..40 {
            let peer = peer.clone();
            let mut activity = peer.follow(&format!("listens/{n}"), &target);
            activity["type"] = json!("Listen");
            sends.spawn(async move { (n, copy, peer.send(&activity).await) });
        }
    }
    while let Some(sent) = sends.join_next().await {
        let (n, copy, status) = sent.unwrap();
        assert_eq!(status, 202, "listen {n} copy {copy}");
    }
    let rows = inbox_activities::Entity::find().all(&a.state.db).await.unwrap();
    assert_eq!(rows.len(), 40, "one row per activity id");
    let mut ids: Vec<&str> = rows.iter().map(|r| r.ap_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40);

    // The writer's own answers: within one batch and across batches, the first copy of an
    // id is new and every other copy is a duplicate.
    let writer = a.state.federation.inbox_writer.clone();
    let mut inserts = tokio::task::JoinSet::new();
    for n in 0..60 {
        for _ in 0..3 {
            let writer = writer.clone();
            let row = NewInboxRow {
                ap_id: format!("https://remote.example/activities/{}", n % 30),
                activity_type: "Listen".into(),
                actor_ap_id: "https://remote.example/users/x".into(),
                actor_id: 0,
                payload: "{}".into(),
            };
            inserts.spawn(async move { (n % 30, writer.insert(row).await.unwrap()) });
        }
    }
    let mut new_per_id = std::collections::HashMap::<usize, usize>::new();
    let mut answers = 0;
    while let Some(answer) = inserts.join_next().await {
        let (id, inserted) = answer.unwrap();
        answers += 1;
        if inserted == Inserted::New {
            *new_per_id.entry(id).or_default() += 1;
        }
    }
    assert_eq!(answers, 180);
    assert_eq!(new_per_id.len(), 30, "each of the 30 ids was new once: {new_per_id:?}");
    assert!(new_per_id.values().all(|&n| n == 1), "never twice: {new_per_id:?}");
    assert_eq!(stored(&a).await, 70);
}

/// A graceful shutdown finishes the requests in flight: every activity answered 202 is in
/// the table, none is lost in a pending batch.
#[tokio::test]
async fn shutdown_flushes_every_accepted_activity() {
    let (mut a, b) = two_instances().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let peer = std::sync::Arc::new(Peer::new(&b, "ada", &a, "acme").await);
    // Prime the actor cache so the requests below are quick.
    assert_eq!(peer.send(&peer.follow("follows/prime", &a.actor_url("acme"))).await, 202);
    let target = a.actor_url("acme");
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..60 {
        let peer = peer.clone();
        let mut activity = peer.follow(&format!("listens/{n}"), &target);
        activity["type"] = json!("Listen");
        let id = activity["id"].as_str().unwrap().to_owned();
        sends.spawn(async move {
            let body = activity.to_string().into_bytes();
            let headers = signing::signed_headers(&peer.key, &peer.inbox, &body, SystemTime::now());
            let status = peer.client.post(peer.inbox.clone()).headers(headers).body(body).send().await;
            (id, status.map(|r| r.status().as_u16()).ok())
        });
    }
    // Shut down as soon as the first of them is stored: the others are in flight.
    eventually(30, "the first requests stored", || async { (stored(&a).await >= 2).then_some(()) }).await;
    a.begin_shutdown();
    let mut accepted = Vec::new();
    let mut statuses = Vec::new();
    while let Some(sent) = sends.join_next().await {
        let (id, status) = sent.unwrap();
        statuses.push(status);
        if status == Some(202) {
            accepted.push(id);
        }
    }
    println!("answers during shutdown: {statuses:?}");
    assert!(!accepted.is_empty(), "some requests were in flight when the shutdown began");
    let rows = inbox_activities::Entity::find().all(&a.state.db).await.unwrap();
    for id in &accepted {
        assert!(rows.iter().any(|r| &r.ap_id == id), "{id} was answered 202 but is not stored");
    }
}

/// A lease walks the pending rows in id order and stops after its batch: its plan sorts
/// nothing, so its cost does not grow with the backlog (migration 000005; with the old
/// `(state, available_at)` index both engines sorted every pending row). The plan is asked
/// for with a backlog of 5,000 analysed rows, as a worker that fell behind would see it.
#[tokio::test]
async fn leasing_walks_the_backlog_in_order_without_sorting_it() {
    use openhouse::federation::inbox;
    use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, QueryTrait};

    let app = TestApp::spawn_with(Options { no_workers: true, ..Options::default() }).await;
    let db = &app.state.db;
    let now = chrono::Utc::now();
    for chunk in (0..5_000).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| inbox_activities::ActiveModel {
            ap_id: Set(format!("https://remote.example/activities/{n}")),
            activity_type: Set("Create".into()),
            actor_ap_id: Set("https://remote.example/users/ada".into()),
            payload: Set("{}".into()),
            state: Set(inbox_activities::InboxState::Pending),
            attempts: Set(0),
            received_at: Set(now),
            available_at: Set(now),
            ..Default::default()
        });
        inbox_activities::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
    db.execute_unprepared("ANALYZE").await.unwrap();
    let backend = db.get_database_backend();
    let lease = inbox::lease(now, now + chrono::Duration::seconds(60)).build(backend);
    let plan = crate::support::query_plan(db, lease, false).await;
    assert!(!plan.contains("TEMP B-TREE") && !plan.contains("Sort"), "the lease sorts:\n{plan}");
    if backend == DbBackend::Sqlite {
        assert!(plan.contains("ix_inbox_state_id"), "the lease does not use the (state, id) index:\n{plan}");
    }
}
