//! Missing parents: fetched upward within the activity's fetch budget and continued by the
//! continuation worker, orphans linked once their parent is stored, cycles and chains over
//! the depth bound ended cleanly.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{
    db::{entities::posts, queries},
    domain::ActorKind,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::support::{
    Options, eventually,
    fake_remote::{Fake, FakeActor, instance_with_fakes},
};

/// A chain of notes, alternating between the two hosts, each answering the previous; the
/// first answers `root` (when given). Returns the notes, top first.
fn chain(authors: [&FakeActor; 2], len: usize, root: Option<&str>, tag: &str) -> Vec<Value> {
    let mut notes: Vec<Value> = Vec::with_capacity(len);
    for i in 0..len {
        let parent = match notes.last() {
            Some(p) => p["id"].as_str().map(str::to_owned),
            None => root.map(str::to_owned),
        };
        notes.push(authors[i % 2].served_note(&format!("{tag}-{i}"), parent.as_deref(), None, &format!("level {i}")));
    }
    notes
}

#[tokio::test]
async fn a_fifty_deep_chain_across_two_hosts_resolves_within_the_fetch_budget() {
    let (a, fake1, fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");
    let notes = chain([&ada, &bob], 50, Some(&update.ap_id), "deep");
    // The last one arrives, mentioning the brand; its 49 ancestors are unknown to A.
    let last = notes.last().unwrap().clone();
    let author = if !notes.len().is_multiple_of(2) { &ada } else { &bob };
    let mut last = last;
    last["cc"] = json!([brand.ap_id]);
    last["tag"] = json!([{"type": "Mention", "href": brand.ap_id, "name": "@acme"}]);
    author.host().put(last["id"].as_str().unwrap(), last.clone());
    // Ada and Bob are known (cached) before, so every fetch of the walk is a note.
    assert_eq!(ada.deliver(&a, &ada.activity("Like", json!(update.ap_id))).await, InboxState::Done);
    assert_eq!(bob.deliver(&a, &bob.activity("Like", json!(update.ap_id))).await, InboxState::Done);
    // The 21st ancestor is held by its server: whatever fetches it cannot go further.
    let beyond_budget = &notes[notes.len() - 2 - 20];
    let beyond_fake = if (notes.len() - 2 - 20).is_multiple_of(2) { &fake1 } else { &fake2 };
    beyond_fake.hold(beyond_budget["id"].as_str().unwrap(), true);
    assert_eq!(author.deliver(&a, &author.activity("Create", last.clone())).await, InboxState::Done);
    // The activity stopped at its budget: exactly 20 ancestors stored with it, the rest
    // is left to the continuation worker, which carries on with budgets of its own.
    let stored_now = posts::Entity::find().filter(posts::Column::Local.eq(false)).count(&a.state.db).await.unwrap();
    assert_eq!(stored_now, 21, "the reply and 20 ancestors");
    assert!(a.post(beyond_budget["id"].as_str().unwrap()).await.is_none());
    beyond_fake.hold(beyond_budget["id"].as_str().unwrap(), false);
    let top = eventually(60, "the whole chain linked under the update", || async {
        let top = a.post(notes[0]["id"].as_str().unwrap()).await?;
        (top.in_reply_to_post_id == Some(update.id)).then_some(top)
    })
    .await;
    assert_eq!(top.depth, 1);
    // Where the activity stopped, no fetch had failed or timed out on the held note: it
    // stopped at its budget, and the continuation fetched the rest.
    let stop = a.post(notes[notes.len() - 1 - 20]["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(stop.parent_fetch_attempts, 0);
    let bottom = a.post(last["id"].as_str().unwrap()).await.unwrap();
    assert_eq!((bottom.thread_root_id, bottom.depth), (Some(update.id), 50));
    let in_thread =
        posts::Entity::find().filter(posts::Column::ThreadRootId.eq(update.id)).count(&a.state.db).await.unwrap();
    assert_eq!(in_thread, 50);
    // Each ancestor was fetched once, and nothing is left pending.
    assert_eq!(fake1.note_fetches() + fake2.note_fetches(), 49);
    let pending =
        posts::Entity::find().filter(posts::Column::ParentFetchAfter.is_not_null()).count(&a.state.db).await.unwrap();
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn an_orphan_whose_parent_was_stored_meanwhile_is_linked_without_a_fetch() {
    use sea_orm::ActiveValue::Set;

    let (a, fake1, _fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let parent = ada.served_note("p", Some(&update.ap_id), None, "the parent");
    assert_eq!(ada.deliver(&a, &ada.activity("Create", parent.clone())).await, InboxState::Done);
    let parent = a.post(parent["id"].as_str().unwrap()).await.expect("the parent stored");
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
    let fetched_before = fake1.note_fetches();
    openhouse::services::thread_links::schedule_parent_fetch(
        &a.state.db,
        orphan.id,
        now,
        openhouse::services::thread_links::Reschedule::Continue,
    )
    .await
    .unwrap();
    let linked = eventually(30, "the orphan linked under its parent", || async {
        let reply = a.post(&reply_id).await?;
        (reply.in_reply_to_post_id == Some(parent.id) && reply.parent_fetch_after.is_none()).then_some(reply)
    })
    .await;
    assert_eq!((linked.thread_root_id, linked.depth), (Some(update.id), 2));
    assert_eq!(fake1.note_fetches(), fetched_before, "the parent was fetched though we have it");
}

#[tokio::test]
async fn cyclic_and_over_deep_chains_end_cleanly() {
    let (a, fake1, fake2) = instance_with_fakes(Options::default()).await;
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
    bob.served_note("y", Some(&x_id), None, "y");
    let x = mention(ada.served_note("x", Some(&y_id), None, "x"), &fake1);
    assert_eq!(ada.deliver(&a, &ada.activity("Create", x)).await, InboxState::Done);
    let y = eventually(30, "y stored", || async { a.post(&y_id).await }).await;
    let x = a.post(&x_id).await.unwrap();
    assert_eq!(x.in_reply_to_post_id, None, "the cycle is not closed");
    assert_eq!(y.in_reply_to_post_id, Some(x.id));
    assert_eq!(fake1.note_fetches() + fake2.note_fetches(), 1);

    // A chain of 130 under no root: the walk stops at the bound and stores what it got.
    let notes = chain([&ada, &bob], 130, None, "long");
    let last = notes.last().unwrap().clone();
    let author = if !notes.len().is_multiple_of(2) { &ada } else { &bob };
    let last = mention(last, author.host());
    assert_eq!(author.deliver(&a, &author.activity("Create", last.clone())).await, InboxState::Done);
    let bound = openhouse::federation::remote_notes::MAX_CHAIN_DEPTH as usize;
    let top_index = notes.len() - 1 - bound;
    let top = eventually(90, "the chain walked to the bound", || async {
        let top = a.post(notes[top_index]["id"].as_str().unwrap()).await?;
        let bottom = a.post(last["id"].as_str().unwrap()).await?;
        (bottom.thread_root_id == Some(top.id) && top.parent_fetch_after.is_none()).then_some(top)
    })
    .await;
    assert!(a.post(notes[top_index - 1]["id"].as_str().unwrap()).await.is_none(), "nothing above the bound");
    assert_eq!(top.in_reply_to_post_id, None);
    let bottom = a.post(last["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(bottom.depth, bound as i32);
    // It stays ended: no continuation is scheduled, now or later, and a round of the
    // continuation worker run by hand finds nothing to do and fetches nothing.
    let pending =
        posts::Entity::find().filter(posts::Column::ParentFetchAfter.is_not_null()).count(&a.state.db).await.unwrap();
    assert_eq!(pending, 0);
    let fetched = fake1.note_fetches() + fake2.note_fetches();
    let continued = openhouse::federation::remote_notes::continue_due(&a.state.federation).await.unwrap();
    assert_eq!(continued, 0);
    assert_eq!(fake1.note_fetches() + fake2.note_fetches(), fetched);
}
