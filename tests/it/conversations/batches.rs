//! One round of the inbox worker stores its notes together and keeps their order (an Update
//! finds the note its Create stored in the same round); a note at fault fails alone.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{
    db::{entities::conversations, queries},
    domain::ActorKind,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::support::{Options, fake_remote::instance_with_fakes, wait::inbox_done};

#[tokio::test]
async fn one_round_stores_its_creates_together_and_keeps_their_order() {
    // The inbox worker is run by hand, so every activity below is in the same round.
    let (a, fake, _) = instance_with_fakes(Options { no_workers: true, ..Default::default() }).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "Acme 3.0 beta: what breaks?").await;
    let eve = fake.actor("eve");

    let first = eve.served_note("1", Some(&update.ap_id), None, "<p>first</p>");
    let nested = eve.served_note("2", first["id"].as_str(), None, "<p>an answer to the first, same round</p>");
    let mut edited = first.clone();
    edited["content"] = json!("<p>first, edited</p>");
    edited["updated"] = json!("2026-11-23T11:00:00Z");
    let elsewhere = eve.served_note("3", Some("http://127.0.0.4/users/someone/notes/9"), None, "<p>not ours</p>");
    let round = [
        eve.activity("Create", first.clone()),
        eve.activity("Create", nested.clone()),
        eve.activity("Update", edited),
        eve.activity("Create", elsewhere.clone()),
        eve.activity("Create", first.clone()),
        eve.activity("Like", json!(update.ap_id)),
        eve.activity("Create", eve.served_note("4", Some(&update.ap_id), None, "<p>after the like</p>")),
    ];
    for activity in &round {
        assert_eq!(eve.send(&a, activity).await, 202, "{activity}");
    }
    let handled = openhouse::federation::inbox::process_batch(&a.state.federation).await.unwrap();
    assert_eq!(handled, round.len());

    let states: Vec<InboxState> = {
        let mut states = Vec::new();
        for activity in &round {
            states.push(inbox_done(&a, activity["id"].as_str().unwrap()).await);
        }
        states
    };
    use InboxState::{Done, Ignored};
    assert_eq!(states, [Done, Done, Done, Ignored, Ignored, Done, Done]);
    let first = a.post(first["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(first.content_html, "<p>first, edited</p>", "the Update found the note its Create stored");
    let nested = a.post(nested["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(nested.in_reply_to_post_id, Some(first.id), "a parent stored earlier in the same round");
    assert_eq!((nested.thread_root_id, nested.depth), (Some(update.id), 2));
    assert!(a.post(elsewhere["id"].as_str().unwrap()).await.is_none());
    assert_eq!(a.post(&update.ap_id).await.unwrap().likes_count, 1);
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
    let (a, fake, _) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "Acme 3.0 beta").await;
    let eve = fake.actor("eve");
    let first = eve.served_note("1", Some(&update.ap_id), None, "<p>first</p>");
    assert_eq!(eve.deliver(&a, &eve.activity("Create", first)).await, InboxState::Done);
    let author_id = queries::actors::find_by_ap_id(&a.state.db, &eve.id).await.unwrap().unwrap().id;
    let note = |n: u32, author_id: i64| IncomingNote {
        ap_id: format!("{}/notes/batch-{n}", eve.id),
        author_id,
        url: None,
        content_html: format!("<p>batch {n}</p>"),
        summary: None,
        sensitive: false,
        visibility: openhouse::domain::Visibility::Public,
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
    assert!(a.post(&format!("{}/notes/batch-1", eve.id)).await.is_some());
    assert!(a.post(&format!("{}/notes/batch-2", eve.id)).await.is_none());
    assert!(a.post(&format!("{}/notes/batch-3", eve.id)).await.is_some());
}
