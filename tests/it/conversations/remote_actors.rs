//! A's copies of remote actors: fetched on first contact, used for a day, refreshed after,
//! and deleted with everything of theirs when their server says they are gone.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{db::queries, domain::ActorKind};
use serde_json::json;

use crate::support::{
    Options, TestApp,
    fake_remote::{FakeActor, instance_with_fakes},
};

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
    let (a, fake, _) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "Acme 3.0 beta").await;
    let eve = fake.actor("eve");
    let fetches = || fake.actor_fetches();
    let stored_eve = || queries::actors::find_by_ap_id(&a.state.db, &eve.id);

    // First contact fetches the actor; later activities within a day use the stored copy.
    let reply = eve.served_note("1", Some(&update.ap_id), None, "<p>first</p>");
    assert_eq!(eve.deliver(&a, &eve.activity("Create", reply.clone())).await, InboxState::Done);
    assert_eq!(fetches(), 1);
    let like = eve.activity("Like", json!(update.ap_id));
    assert_eq!(eve.deliver(&a, &like).await, InboxState::Done);
    age_actor(&a, &eve).await;
    let mut renamed = eve.doc.clone();
    renamed["name"] = json!("Eve, renamed");
    fake.put(&eve.id, renamed);
    assert_eq!(fetches(), 1, "a fresh copy is not fetched again");

    // A day later the next activity refreshes it (F6).
    let second = eve.served_note("2", Some(&update.ap_id), None, "<p>second</p>");
    assert_eq!(eve.deliver(&a, &eve.activity("Create", second)).await, InboxState::Done);
    assert_eq!(fetches(), 2, "a copy older than 24 h is fetched again");
    let stored = stored_eve().await.unwrap().unwrap();
    assert_eq!(stored.display_name, "Eve, renamed");
    assert!(stored.last_fetched_at.unwrap() > chrono::Utc::now() - chrono::Duration::minutes(5));

    // When the actor's server says 410, the cached copy is deleted: its notes become
    // tombstones in the thread, and its requests are no longer accepted.
    age_actor(&a, &eve).await;
    fake.make_gone(&eve.id);
    let third = eve.served_note("3", Some(&update.ap_id), None, "<p>third</p>");
    let status = eve.send(&a, &eve.activity("Create", third.clone())).await;
    assert_eq!(status, 401, "an actor that is gone cannot be verified");
    assert_eq!(fetches(), 3);
    let stored = stored_eve().await.unwrap().unwrap();
    assert!(stored.deleted_at.is_some(), "the cached actor is marked deleted");
    let first = a.post(reply["id"].as_str().unwrap()).await.unwrap();
    assert!(first.deleted_at.is_some() && first.content_html.is_empty(), "its notes are tombstones");
    assert!(a.post(third["id"].as_str().unwrap()).await.is_none(), "nothing from it is stored");
    assert_eq!(a.post(&update.ap_id).await.unwrap().likes_count, 0, "its like is gone with it");
}
