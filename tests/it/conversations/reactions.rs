//! Likes and announces of our posts: counted once per actor, and undone.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{db::entities::posts, domain::ActorKind};
use serde_json::json;

use crate::support::{Options, fake_remote::instance_with_fakes};

#[tokio::test]
async fn likes_and_announces_are_counted_once_per_actor_and_undone() {
    let (a, fake1, fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");

    // Likes and announces are counted once per actor, and undone.
    let like = ada.activity("Like", json!(update.ap_id));
    assert_eq!(ada.deliver(&a, &like).await, InboxState::Done);
    assert_eq!(bob.deliver(&a, &bob.activity("Like", json!(update.ap_id))).await, InboxState::Done);
    assert_eq!(ada.deliver(&a, &ada.activity("Like", json!(update.ap_id))).await, InboxState::Ignored);
    let announce = ada.activity("Announce", json!(update.ap_id));
    assert_eq!(ada.deliver(&a, &announce).await, InboxState::Done);
    let counts = |p: posts::Model| (p.likes_count, p.announces_count);
    assert_eq!(counts(a.post(&update.ap_id).await.unwrap()), (2, 1));
    assert_eq!(ada.deliver(&a, &ada.activity("Undo", like["id"].clone())).await, InboxState::Done);
    assert_eq!(ada.deliver(&a, &ada.activity("Undo", announce.clone())).await, InboxState::Done);
    assert_eq!(ada.deliver(&a, &ada.activity("Undo", announce)).await, InboxState::Ignored);
    assert_eq!(counts(a.post(&update.ap_id).await.unwrap()), (1, 0));
}
