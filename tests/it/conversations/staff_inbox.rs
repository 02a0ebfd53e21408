//! The staff inbox (a row per conversation a brand is in): replies that reach it, in
//! whatever order they arrive.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{db::entities::conversations, domain::ActorKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support::{Options, eventually, fake_remote::instance_with_fakes};

#[tokio::test]
async fn replies_linked_after_their_parents_arrive_reach_the_conversations_inbox() {
    let (a, fake1, fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");
    let first = ada.served_note("first", Some(&update.ap_id), None, "an answer to the update");
    let first_id = first["id"].as_str().unwrap().to_owned();
    let second = bob.served_note("second", Some(&first_id), None, "an answer to ada");
    let second_id = second["id"].as_str().unwrap().to_owned();
    let third = ada.served_note("third", Some(&second_id), Some(&brand.ap_id), "@acme see this");
    let third_id = third["id"].as_str().unwrap().to_owned();
    assert_eq!(ada.deliver(&a, &ada.activity("Create", third)).await, InboxState::Done);
    let bottom = eventually(30, "the chain linked under the update", || async {
        let bottom = a.post(&third_id).await?;
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
        let id = a.post(ap_id).await.unwrap().id;
        let row = rows.iter().find(|r| r.post_id == id).map(|r| (r.kind.as_str(), r.thread_root_id));
        assert_eq!(row, Some((kind, update.id)), "{ap_id} in the brand's conversations: {rows:?}");
    }
    assert_eq!(rows.len(), 3, "{rows:?}");
}
