//! Identity (FEDERATION.md I6, F2, F8): every activity and every fetched note is credited to
//! the actor whose id it names, never to whoever a URL happens to lead to.
//!
//! Two fake servers on loopback: the attacker (127.0.0.4), who holds the key of its own
//! actor `y` and controls the URL `x`, and the victim's server (127.0.0.5), home of `bob`,
//! whose key the attacker does not have. `x` redirects to `y` while the inbox checks the
//! signature and to `bob` while the worker processes the activity: before the fix, the inbox
//! verified y's signature for an activity of `x`, and the worker credited it to bob.

use openhouse::{
    db::{
        entities::{actors, follows, posts},
        queries,
    },
    domain::ActorKind,
    federation::{
        fetch::{FetchBudget, SafeClient},
        identity, inbox,
    },
    net::AllowList,
    services::tokens,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use url::Url;

use crate::support::{
    Options, TestApp,
    fake_remote::{Doc, FAKE_HOSTS, Fake, FakeActor, PUBLIC, instance_with_fakes},
    snapshot::snapshot,
};

/// An instance without background workers (the test runs the inbox worker), the attacker's
/// server and the victim's.
async fn instance() -> (TestApp, Fake, Fake) {
    instance_with_fakes(Options { no_workers: true, ..Default::default() }).await
}

/// Runs the inbox worker until nothing is pending.
async fn drain(a: &TestApp) {
    while inbox::process_batch(&a.state.federation).await.unwrap() > 0 {}
}

async fn actor_row(a: &TestApp, id: &str) -> Option<actors::Model> {
    queries::actors::find_by_ap_id(&a.state.db, id).await.unwrap()
}

/// Posts credited to the actor with id `ap_id`.
async fn posts_by(a: &TestApp, ap_id: &str) -> Vec<posts::Model> {
    let Some(actor) = actor_row(a, ap_id).await else { return Vec::new() };
    posts::Entity::find().filter(posts::Column::ActorId.eq(actor.id)).all(&a.state.db).await.unwrap()
}

#[tokio::test]
async fn activities_sent_through_a_redirecting_actor_url_credit_no_one_else() {
    let (a, attacker, victim) = instance().await;
    let acme = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&acme, "Beta 2 is out: tell us what breaks").await;
    let bob = victim.actor("bob");
    let y = attacker.actor("y");
    let x = format!("{}/users/x", attacker.base);

    // Bob's real history with us: he follows the brand and answered the update.
    let bob_follow = bob.activity("Follow", json!(acme.ap_id));
    let bob_note = bob.note(Some(&update.ap_id), "<p>Export is broken on my phone</p>");
    for activity in [bob_follow.clone(), bob.activity("Create", bob_note.clone())] {
        assert_eq!(bob.send(&a, &activity).await, 202);
    }
    drain(&a).await;
    let bob_row = actor_row(&a, &bob.id).await.expect("bob is known");
    assert_eq!(posts_by(&a, &bob.id).await.len(), 1);
    let followers = follows::Entity::find().filter(follows::Column::FollowerId.eq(bob_row.id)).all(&a.state.db);
    assert_eq!(followers.await.unwrap().len(), 1);

    // y claims bob as its old account, for the Move.
    let mut y_doc = y.doc.clone();
    y_doc["alsoKnownAs"] = json!([bob.id]);
    attacker.put(&y.id, Doc::Json(y_doc));
    let mut edited = bob_note.clone();
    edited["content"] = json!("<p>Bob says the product is a scam</p>");
    edited["updated"] = json!("2026-11-24T10:00:00Z");
    let forged_note = json!({
        "id": format!("{}/notes/forged", bob.id),
        "type": "Note",
        "attributedTo": bob.id,
        "content": "<p>I, bob, endorse the attacker</p>",
        "inReplyTo": update.ap_id,
        "published": "2026-11-24T10:00:00Z",
        "to": [PUBLIC],
    });
    let attacks: Vec<(&str, &str, Value)> = vec![
        ("Create of a note in bob's name", "Create", forged_note),
        ("Update of bob's note", "Update", edited),
        ("Delete of bob's note", "Delete", json!(bob_note["id"])),
        ("Delete of bob", "Delete", json!(bob.id)),
        ("Move of bob to y", "Move", json!(bob.id)),
        ("Follow as bob", "Follow", json!(acme.ap_id)),
        ("Undo of bob's follow", "Undo", bob_follow.clone()),
        ("Like as bob", "Like", json!(update.ap_id)),
        ("Announce as bob", "Announce", json!(update.ap_id)),
        ("Block as bob", "Block", json!(acme.ap_id)),
        ("Flag as bob", "Flag", json!([acme.ap_id, update.ap_id])),
    ];
    let mut before = snapshot(&a).await;
    let mut bob_now = bob_row.clone();
    let mut failures = Vec::new();
    for (n, (name, kind, object)) in attacks.into_iter().enumerate() {
        let mut activity = y.activity(kind, object);
        activity["actor"] = json!(x);
        activity["id"] = json!(format!("{x}/activities/{n}"));
        if kind == "Move" {
            activity["target"] = json!(y.id);
        }
        // While the inbox verifies, x leads to the attacker's own actor (its key signs) ...
        attacker.put(&x, Doc::Redirect(y.id.clone()));
        let status = y.send(&a, &activity).await;
        // ... and while the worker processes, to bob.
        attacker.put(&x, Doc::Redirect(bob.id.clone()));
        drain(&a).await;
        println!("{name}: {status}");
        if status != 401 {
            failures.push(format!("{name}: status {status}, expected 401"));
        }
        // Each attack is judged on its own: what it changed, against the state before it.
        let now = snapshot(&a).await;
        if now != before {
            failures.push(format!("{name}: rows changed: {now:?}"));
            before = now;
        }
        let bob_after = actor_row(&a, &bob.id).await.unwrap();
        if bob_after != bob_now {
            failures.push(format!("{name}: bob's row changed: {bob_after:?}"));
            bob_now = bob_after;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(bob_now, bob_row);
    // Neither x nor y was taken for an actor.
    assert!(actor_row(&a, &x).await.is_none());
}

/// A worker never decides who the actor is over the network, even for a row stored before
/// the verified actor was recorded with it: such a row's actor is the actor whose id is the
/// claimed URL, which a redirect to bob is not.
#[tokio::test]
async fn a_stored_activity_without_its_verified_actor_is_not_credited_to_where_its_url_leads() {
    use openhouse::db::entities::inbox_activities;
    use sea_orm::ActiveValue::Set;

    let (a, attacker, victim) = instance().await;
    let acme = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let bob = victim.actor("bob");
    let x = format!("{}/users/x", attacker.base);
    attacker.put(&x, Doc::Redirect(bob.id.clone()));
    let activity = json!({"id": format!("{x}/follows/1"), "type": "Follow", "actor": x, "object": acme.ap_id});
    let now = chrono::Utc::now();
    inbox_activities::Entity::insert(inbox_activities::ActiveModel {
        ap_id: Set(activity["id"].as_str().unwrap().to_owned()),
        activity_type: Set("Follow".into()),
        actor_ap_id: Set(x.clone()),
        actor_id: Set(None),
        payload: Set(activity.to_string()),
        state: Set(inbox_activities::InboxState::Pending),
        attempts: Set(0),
        received_at: Set(now),
        available_at: Set(now),
        ..Default::default()
    })
    .exec(&a.state.db)
    .await
    .unwrap();
    drain(&a).await;
    assert!(follows::Entity::find().all(&a.state.db).await.unwrap().is_empty(), "no follow in anyone's name");
    assert!(actor_row(&a, &bob.id).await.is_none(), "bob was not taken for x");
}

/// Bob on the victim's server, and the id of a note `q` on the attacker's server "by x",
/// where x redirects to bob; `q` answers `in_reply_to` when given.
fn note_by_redirecting_author(attacker: &Fake, victim: &Fake, in_reply_to: Option<&str>) -> (FakeActor, String) {
    let bob = victim.actor("bob");
    let x = format!("{}/users/x", attacker.base);
    attacker.put(&x, Doc::Redirect(bob.id.clone()));
    let q_id = format!("{}/notes/q", attacker.base);
    attacker.put(
        &q_id,
        Doc::Json(json!({
            "id": q_id, "type": "Note", "attributedTo": x, "content": "<p>Bob: I quit this brand</p>",
            "inReplyTo": in_reply_to, "published": "2026-11-24T09:00:00Z", "to": [PUBLIC],
        })),
    );
    (bob, q_id)
}

/// A note fetched while walking up a thread is credited to the actor whose id is its
/// `attributedTo`, or not stored: never to the actor that URL redirects to.
#[tokio::test]
async fn a_thread_walk_note_whose_author_url_redirects_is_not_credited_to_the_victim() {
    let (a, attacker, victim) = instance().await;
    let acme = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&acme, "What should we build next?").await;
    let (bob, q_id) = note_by_redirecting_author(&attacker, &victim, Some(&update.ap_id));
    // r: z's genuine reply to q, mentioning the brand.
    let z = attacker.actor("z");
    let mut r = z.note(Some(&q_id), "<p>@acme see above</p>");
    r["tag"] = json!([{"type": "Mention", "href": acme.ap_id, "name": "@acme"}]);
    r["cc"] = json!([acme.ap_id]);
    assert_eq!(z.send(&a, &z.activity("Create", r.clone())).await, 202);
    drain(&a).await;

    let r_row = queries::posts::find_by_ap_id(&a.state.db, r["id"].as_str().unwrap()).await.unwrap();
    assert!(r_row.is_some(), "z's reply is stored (it mentions the brand)");
    assert!(posts_by(&a, &bob.id).await.is_empty(), "nothing credited to bob");
    assert!(queries::posts::find_by_ap_id(&a.state.db, &q_id).await.unwrap().is_none(), "q has no author: not stored");
    assert!(attacker.hits_of("/notes/q") >= 1, "the walk did fetch q");
}

/// Staff answering a note by URL: the note's author is the actor whose id is its
/// `attributedTo`; a note whose author URL redirects elsewhere is refused, so the answer
/// mentions no one it should not.
#[tokio::test]
async fn a_reply_target_whose_author_url_redirects_is_refused() {
    let (a, attacker, victim) = instance().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (bob, q_id) = note_by_redirecting_author(&attacker, &victim, None);
    let (_, token) = tokens::create(&a.state.db, "staff", None).await.unwrap();
    let response = a
        .client
        .post(format!("{}/api/v1/posts", a.base))
        .header("Authorization", format!("Bearer {}", token.expose()))
        .json(&json!({ "actor": "acme", "text": "Thanks!", "visibility": "public", "in_reply_to": q_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let error = response.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("author"), "{error}");
    assert!(actor_row(&a, &bob.id).await.is_none());
    assert!(posts::Entity::find().all(&a.state.db).await.unwrap().is_empty(), "nothing published");
}

/// F8: `@bob@attacker` whose WebFinger `self` link is bob on the victim's server is used
/// only when the victim's server confirms that handle (`bob@victim` → the same actor).
#[tokio::test]
async fn a_mention_resolved_through_an_off_domain_webfinger_link_needs_the_actors_server_to_confirm() {
    let (a, attacker, victim) = instance().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let bob = victim.actor("bob");
    let jrd = |href: &str| {
        Doc::Raw(
            "application/jrd+json",
            json!({"subject": "acct:bob", "links": [{"rel": "self", "type": "application/activity+json", "href": href}]})
                .to_string(),
        )
    };
    attacker.put(&format!("{}/.well-known/webfinger", attacker.base), jrd(&bob.id));
    let (_, token) = tokens::create(&a.state.db, "staff", None).await.unwrap();
    let handle = format!("@bob@127.0.0.4:{}", attacker.port());
    let publish = |text: String| {
        a.client
            .post(format!("{}/api/v1/posts", a.base))
            .header("Authorization", format!("Bearer {}", token.expose()))
            .json(&json!({ "actor": "acme", "text": text, "visibility": "public" }))
            .send()
    };

    // The victim's server knows no such handle: refused, nothing published.
    let response = publish(format!("Welcome {handle}!")).await.unwrap();
    assert_eq!(response.status(), 422);
    let error = response.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("confirm"), "{error}");
    assert!(posts::Entity::find().all(&a.state.db).await.unwrap().is_empty());

    // The victim's server says bob@victim is someone else: still refused.
    victim.put(&format!("{}/.well-known/webfinger", victim.base), jrd(&format!("{}/users/carol", victim.base)));
    assert_eq!(publish(format!("Welcome {handle}!")).await.unwrap().status(), 422);

    // It confirms bob (a handle on one domain, the account on another): the mention is bob.
    victim.put(&format!("{}/.well-known/webfinger", victim.base), jrd(&bob.id));
    let response = publish(format!("Welcome {handle}!")).await.unwrap();
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let note: Value = a.get_activity_json(&format!("/users/acme/posts/{id}")).await.json().await.unwrap();
    assert_eq!(note["tag"][0]["href"], bob.id, "{note}");
}

/// F2, the fetch itself: a document is accepted under its own id only, asking its id again
/// when a redirect was followed or the id differs.
#[tokio::test]
async fn a_fetched_document_is_accepted_only_under_an_id_its_own_server_vouches_for() {
    let attacker = Fake::start("127.0.0.4").await;
    let victim = Fake::start("127.0.0.5").await;
    let client = SafeClient::new(AllowList::parse(FAKE_HOSTS).unwrap(), "test").unwrap();
    let fetch = |url: String| {
        let client = client.clone();
        async move {
            let mut budget = FetchBudget::of(5);
            let result = identity::fetch_object(&client, &Url::parse(&url).unwrap(), None, &mut budget).await;
            (result.map(|f| f.id.to_string()).map_err(|e| e.to_string()), 5 - budget.remaining())
        }
    };
    let bob = victim.actor("bob");
    let at = |fake: &Fake, path: &str| format!("{}{path}", fake.base);

    // Its own id, no redirect: one fetch.
    assert_eq!(fetch(bob.id.clone()).await, (Ok(bob.id.clone()), 1));
    // A same-server redirect: the id is asked again, and answers.
    victim.put(&at(&victim, "/@bob"), Doc::Redirect(bob.id.clone()));
    assert_eq!(fetch(at(&victim, "/@bob")).await, (Ok(bob.id.clone()), 2));
    // A copy of bob served by the attacker under bob's id: bob's own server is asked, and
    // what it serves is what we accept.
    attacker.put(&at(&attacker, "/copy"), Doc::Json(json!({"id": bob.id, "type": "Person", "name": "forged"})));
    let asked = victim.hits_of("/users/bob");
    let (id, fetches) = fetch(at(&attacker, "/copy")).await;
    assert_eq!((id, fetches), (Ok(bob.id.clone()), 2));
    assert_eq!(victim.hits_of("/users/bob"), asked + 1, "bob's server was asked");
    // A document claiming an id whose server says otherwise: refused.
    attacker
        .put(&at(&attacker, "/claims-carol"), Doc::Json(json!({"id": at(&victim, "/users/carol"), "type": "Person"})));
    victim.put(&at(&victim, "/users/carol"), Doc::Json(json!({"id": at(&victim, "/users/dave"), "type": "Person"})));
    assert!(fetch(at(&attacker, "/claims-carol")).await.0.is_err());
    // A claimed id that redirects to another server: refused.
    attacker.put(&at(&attacker, "/claims-erin"), Doc::Json(json!({"id": at(&victim, "/users/erin")})));
    victim.put(&at(&victim, "/users/erin"), Doc::Redirect(at(&attacker, "/erin")));
    attacker.put(&at(&attacker, "/erin"), Doc::Json(json!({"id": at(&victim, "/users/erin")})));
    assert!(fetch(at(&attacker, "/claims-erin")).await.0.is_err());
    // A redirect to another server whose document is its own: accepted under that id.
    attacker.put(&at(&attacker, "/to-bob"), Doc::Redirect(bob.id.clone()));
    assert_eq!(fetch(at(&attacker, "/to-bob")).await.0, Ok(bob.id.clone()));
    // No id: refused.
    attacker.put(&at(&attacker, "/no-id"), Doc::Json(json!({"type": "Note"})));
    assert!(fetch(at(&attacker, "/no-id")).await.0.is_err());
}

/// I13: an actor we never saw deleting itself is answered 202 and dropped, without a fetch.
#[tokio::test]
async fn a_self_delete_from_an_unknown_actor_is_dropped_without_fetching_it() {
    let (a, attacker, _victim) = instance().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let gone = attacker.actor("gone");
    let before = snapshot(&a).await;
    let delete = gone.activity("Delete", json!(gone.id));
    assert_eq!(gone.send(&a, &delete).await, 202);
    assert_eq!(attacker.hits_of("/users/gone"), 0, "the actor was not fetched");
    assert_eq!(snapshot(&a).await, before, "nothing stored");
    // A known actor's self-delete is verified and processed as before.
    let known = attacker.actor("known");
    assert_eq!(known.send(&a, &known.activity("Listen", json!(a.actor_url("acme")))).await, 202);
    assert_eq!(known.send(&a, &known.activity("Delete", json!(known.id))).await, 202);
    drain(&a).await;
    assert!(actor_row(&a, &known.id).await.unwrap().deleted_at.is_some());
}

/// I11 after I6: requests that fail verification in an actor's name do not spend that
/// actor's budget (so a forger cannot get a real actor's deliveries refused with 429).
#[tokio::test]
async fn forged_requests_do_not_spend_the_real_actors_rate() {
    let a = TestApp::spawn_with_env(
        Options { ip: Some("127.0.0.2"), allow_private_fetch: Some(FAKE_HOSTS.into()), no_workers: true },
        &[("OPENHOUSE_INBOX_RATE_PER_ACTOR", "1"), ("OPENHOUSE_INBOX_RATE_PER_IP", "0")],
    )
    .await;
    let fake = Fake::start("127.0.0.4").await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let ada = fake.actor("ada");
    // A forger: ada's id and key id, another key. A burst's worth of forgeries and more.
    let forger = FakeActor::at(&ada.id);
    for _ in 0..15 {
        let forged = forger.activity("Follow", json!(a.actor_url("acme")));
        assert_eq!(forger.send(&a, &forged).await, 401);
    }
    // Ada's own request goes through.
    assert_eq!(ada.send(&a, &ada.activity("Follow", json!(a.actor_url("acme")))).await, 202);
    // The forgeries caused one re-fetch of ada at most (I7), not one each.
    assert!(fake.hits_of("/users/ada") <= 2, "{} fetches", fake.hits_of("/users/ada"));
}
