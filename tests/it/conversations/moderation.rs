//! Deleted actors (everything of theirs goes), reports, blocks (the blocker's follow ends
//! and deliveries skip them) and moves (followers follow the new account once it names the
//! old one).

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{
    db::{
        entities::{activities, conversations, deliveries, follows, reports},
        queries,
    },
    domain::ActorKind,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::support::{Options, eventually, fake_remote::instance_with_fakes};

#[tokio::test]
async fn deleted_actors_reports_blocks_and_moves() {
    let (a, fake1, fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = fake1.actor("ada");

    // Ada follows, likes and replies; then her account is deleted: all of it goes.
    assert_eq!(ada.deliver(&a, &ada.activity("Follow", json!(brand.ap_id))).await, InboxState::Done);
    assert_eq!(ada.deliver(&a, &ada.activity("Like", json!(update.ap_id))).await, InboxState::Done);
    let reply = ada.served_note("1", Some(&update.ap_id), None, "hello");
    assert_eq!(ada.deliver(&a, &ada.activity("Create", reply.clone())).await, InboxState::Done);
    assert_eq!(a.post(&update.ap_id).await.unwrap().likes_count, 1);
    assert_eq!(ada.deliver(&a, &ada.activity("Delete", json!(ada.id))).await, InboxState::Done);
    assert_eq!(a.post(&update.ap_id).await.unwrap().likes_count, 0);
    assert!(a.post(reply["id"].as_str().unwrap()).await.unwrap().deleted_at.is_some());
    assert_eq!(queries::follows::count_followers(&a.state.db, brand.id).await.unwrap(), 0);
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 0);
    // A replayed Create from the deleted actor resurrects nothing.
    assert_eq!(
        ada.deliver(&a, &ada.activity("Create", ada.served_note("2", Some(&update.ap_id), None, "back"))).await,
        InboxState::Ignored
    );

    // A report is stored once, naming the brand.
    let bob = fake2.actor("bob");
    let mut flag = bob.activity("Flag", json!([brand.ap_id, update.ap_id]));
    flag["content"] = json!("spam <b>here</b>");
    assert_eq!(bob.deliver(&a, &flag).await, InboxState::Done);
    assert_eq!(bob.send(&a, &flag).await, 202);
    let stored = reports::Entity::find().all(&a.state.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].target_actor_id, Some(brand.id));
    assert!(stored[0].object_ap_ids.contains(&update.ap_id));

    // Carol follows and Dave follows; Carol blocks the brand: her follow ends and the
    // brand's next post goes to Dave only, even if a follow row came back.
    let carol = fake1.actor("carol");
    let dave = fake2.actor("dave");
    assert_eq!(carol.deliver(&a, &carol.activity("Follow", json!(brand.ap_id))).await, InboxState::Done);
    assert_eq!(dave.deliver(&a, &dave.activity("Follow", json!(brand.ap_id))).await, InboxState::Done);
    assert_eq!(carol.deliver(&a, &carol.activity("Block", json!(brand.ap_id))).await, InboxState::Done);
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
    let next = a.publish(&brand, "v3 is out").await;
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
    assert_eq!(erin.deliver(&a, &unproven).await, InboxState::Failed);
    let mut doc = erin2.doc.clone();
    doc["alsoKnownAs"] = json!([erin.id]);
    fake2.put(&erin2.id, doc);
    let mut proven = erin.activity("Move", json!(erin.id));
    proven["target"] = json!(erin2.id);
    assert_eq!(erin.deliver(&a, &proven).await, InboxState::Done);
    let erin2_row = queries::actors::find_by_ap_id(&a.state.db, &erin2.id).await.unwrap().unwrap();
    assert!(queries::follows::find_pair(&a.state.db, sam.id, erin2_row.id).await.unwrap().is_some());
    assert!(queries::follows::find_pair(&a.state.db, sam.id, erin_row.id).await.unwrap().is_none());
    let moved = queries::actors::find(&a.state.db, erin_row.id).await.unwrap().unwrap();
    assert_eq!(moved.moved_to_ap_id.as_deref(), Some(erin2.id.as_str()));
    let follows_now =
        follows::Entity::find().filter(follows::Column::FollowerId.eq(sam.id)).count(&a.state.db).await.unwrap();
    assert_eq!(follows_now, 1);
}
