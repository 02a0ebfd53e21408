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

use chrono::{Duration, Utc};
use openhouse::{
    db::{
        entities::{
            activities, actors, deleted_objects,
            deliveries::{self, DeliveryState},
            hosts,
            inbox_activities::{self, InboxState},
        },
        queries,
    },
    domain::ActorKind,
    federation::{
        delivery::{
            expand::host_of,
            hosts::{Gate, PROBE_EVERY},
        },
        retention::{self, Retention},
    },
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use tokio::sync::watch;
use url::Url;

use crate::support::{
    Options, TestApp, eventually,
    fake_remote::{Fake, FakeActor, PUBLIC},
    wait::inbox_row,
};

/// `host[:port]` of a fake server, as delivery health keys it.
fn host(fake: &Fake) -> String {
    host_of(&Url::parse(&fake.base).unwrap())
}

/// A public reply by `actor` to `in_reply_to`, with the id `id`.
fn note_at(actor: &FakeActor, id: &str, in_reply_to: &str) -> Value {
    let mut note = actor.note(Some(in_reply_to), "<p>hello</p>");
    note["id"] = json!(id);
    note
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
    (a, brand, Fake::start("127.0.0.7").await)
}

/// Waits until the worker has finished with the inbox row of `id`; the row.
async fn processed(a: &TestApp, id: &str) -> inbox_activities::Model {
    eventually(30, &format!("the worker to finish {id}"), || async {
        inbox_row(a, id).await.filter(|row| row.state != InboxState::Pending)
    })
    .await
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
    for (activity, state) in
        [(&follow, InboxState::Done), (&listen, InboxState::Ignored), (&forged, InboxState::Failed)]
    {
        let row = processed(&a, activity["id"].as_str().unwrap()).await;
        assert_eq!(row.state, state, "{activity}");
        assert_eq!(row.payload, "", "the payload of a {state:?} activity is dropped");
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
        state: Set(InboxState::Pending),
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
    let update = a.publish(&brand, "v2 is out").await;
    let deleted_id = format!("{}/notes/early", ada.id);

    // The Delete overtakes its Create.
    let delete = ada.activity("Delete", json!(deleted_id));
    assert_eq!(ada.send(&a, &delete).await, 202);
    processed(&a, delete["id"].as_str().unwrap()).await;
    let create = ada.activity("Create", note_at(&ada, &deleted_id, &update.ap_id));
    assert_eq!(ada.send(&a, &create).await, 202);
    let row = processed(&a, create["id"].as_str().unwrap()).await;
    assert_eq!(row.state, InboxState::Ignored, "{:?}", row.last_error);
    assert!(a.post(&deleted_id).await.is_none(), "a deleted note was stored");
    // Nor does an Update bring it in.
    let edit = ada.activity("Update", note_at(&ada, &deleted_id, &update.ap_id));
    assert_eq!(ada.send(&a, &edit).await, 202);
    processed(&a, edit["id"].as_str().unwrap()).await;
    assert!(a.post(&deleted_id).await.is_none(), "an Update stored a deleted note");

    // Another note of the same actor is stored.
    let other_id = format!("{}/notes/other", ada.id);
    let other = ada.activity("Create", note_at(&ada, &other_id, &update.ap_id));
    assert_eq!(ada.send(&a, &other).await, 202);
    assert_eq!(processed(&a, other["id"].as_str().unwrap()).await.state, InboxState::Done);
    assert!(a.post(&other_id).await.is_some());

    // Only the owner's Delete counts: Bob (same server) deleting Ada's note changes nothing.
    let hers = format!("{}/notes/hers", ada.id);
    let bobs_delete = bob.activity("Delete", json!(hers));
    assert_eq!(bob.send(&a, &bobs_delete).await, 202);
    processed(&a, bobs_delete["id"].as_str().unwrap()).await;
    let hers_create = ada.activity("Create", note_at(&ada, &hers, &update.ap_id));
    assert_eq!(ada.send(&a, &hers_create).await, 202);
    assert_eq!(processed(&a, hers_create["id"].as_str().unwrap()).await.state, InboxState::Done);
    assert!(a.post(&hers).await.is_some(), "another actor's Delete kept Ada's note out");

    // After the window, the same note may be created again.
    let mut remembered = deleted_objects::Entity::find_by_id(deleted_id.clone())
        .one(&a.state.db)
        .await
        .unwrap()
        .expect("the Delete is remembered")
        .into_active_model();
    remembered.deleted_at = Set(Utc::now() - Duration::hours(49));
    remembered.update(&a.state.db).await.unwrap();
    let again = ada.activity("Create", note_at(&ada, &deleted_id, &update.ap_id));
    assert_eq!(ada.send(&a, &again).await, 202);
    assert_eq!(processed(&a, again["id"].as_str().unwrap()).await.state, InboxState::Done);
    assert!(a.post(&deleted_id).await.is_some(), "stored once the Delete is forgotten");
}

// ---------------------------------------------------------------------------------------
// D7
// ---------------------------------------------------------------------------------------

/// A follower of `brand` whose shared inbox is on the fake server.
async fn follower_on(a: &TestApp, brand: &actors::Model, fake: &Fake) {
    let now = Utc::now();
    let domain = host(fake);
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
    queries::follows::insert(
        &a.state.db,
        fan.id,
        brand.id,
        &format!("{}/follows/1", fake.base),
        openhouse::db::entities::follows::FollowState::Accepted,
        now,
    )
    .await
    .unwrap();
}

/// Publishes a post and waits until its delivery to the fake server is finished or has
/// been attempted once; the delivery row.
async fn publish_and_settle(a: &TestApp, brand: &actors::Model, text: &str) -> deliveries::Model {
    let post = a.publish(brand, text).await;
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
        (row.state != DeliveryState::Pending || row.attempts > 0).then_some(row)
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
    let host = host(&fake);
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
    assert_eq!((skipped.state, skipped.last_error.as_deref()), (DeliveryState::Failed, Some("host unavailable")));
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
        (row.state == DeliveryState::Delivered).then_some(())
    })
    .await;
    assert!(host_row(&a, &host).await.is_none(), "the host was revived");
    assert_eq!(health.gate(&host, Utc::now()), Gate::Open);
    let flowing = publish_and_settle(&a, &brand, "back to normal").await;
    assert_ne!(flowing.state, DeliveryState::Failed, "{flowing:?}");
    eventually(10, "the next delivery arrives", || async { (fake.posts_received() >= sent + 3).then_some(()) }).await;
}

#[tokio::test]
async fn a_verified_request_from_a_dead_host_revives_it_at_once() {
    let (a, brand, fake) = instance().await;
    follower_on(&a, &brand, &fake).await;
    let host = host(&fake);
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
    assert_ne!(delivered.state, DeliveryState::Failed, "{delivered:?}");
    eventually(10, "the delivery arrives", || async { (fake.posts_received() == 1).then_some(()) }).await;
}
