//! Who signed, and who the activity says it is from: a key speaking for another actor, ids
//! on our domain or on another host than the actor's, unsigned requests, and replays.

use serde_json::json;

use super::{Suite, brand_and_known_actors, with};
use crate::support::{
    Options,
    fake_remote::instance_with_fakes,
    snapshot::snapshot,
    wait::{inbox_handled, inbox_row},
};

#[tokio::test]
async fn forged_signers_foreign_ids_unsigned_requests_and_replays_change_nothing() {
    let (a, fake1, _fake2) = instance_with_fakes(Options::default()).await;
    let (acme, ada, bob) = brand_and_known_actors(&a, &fake1).await;
    let follow = ada.activity("Follow", json!(acme));
    let mut s = Suite::new(&a).await;

    // I6: ada's key, bob's name.
    let got = ada.send(&a, &with(follow.clone(), "actor", json!(bob.id))).await;
    s.refused("signed by X carrying actor: Y", 401, got).await;
    let as_bob = with(with(follow.clone(), "actor", json!(bob.id)), "id", json!(bob.new_id("activities")));
    s.refused("signed by X carrying actor: Y and an id of Y's", 401, ada.send(&a, &as_bob).await).await;
    // I8: ours, or not the actor's.
    let got = ada.send(&a, &with(follow.clone(), "id", json!(format!("{}/activities/forged", a.base)))).await;
    s.refused("activity id on our domain", 400, got).await;
    s.refused("actor on our domain", 400, ada.send(&a, &with(follow.clone(), "actor", json!(acme))).await).await;
    let got = ada.send(&a, &with(follow.clone(), "id", json!("https://elsewhere.example/activities/1"))).await;
    s.refused("activity id on another host than the actor", 400, got).await;
    let got = ada
        .post_raw(&a, follow.to_string().as_bytes(), |h| {
            h.remove("signature");
        })
        .await;
    s.refused("unsigned", 401, got).await;

    // Replay: the first copy is stored once; a second with the same id and another body is
    // accepted (I10) and changes nothing, not even the stored payload.
    let listen = ada.activity("Listen", json!(acme));
    let listen_id = listen["id"].as_str().unwrap();
    assert_eq!(ada.send(&a, &listen).await, 202);
    inbox_handled(&a, listen_id).await;
    s.baseline = snapshot(&a).await;
    let before = inbox_row(&a, listen_id).await.unwrap();
    let replay = with(listen.clone(), "object", json!(bob.id));
    s.refused("replayed activity id with another body", 202, ada.send(&a, &replay).await).await;
    let after = inbox_row(&a, listen_id).await.unwrap();
    assert_eq!(after, before, "the replay did not touch the stored activity");

    let cases = s.finish(7);
    println!("{cases} signature and id cases refused");
}
