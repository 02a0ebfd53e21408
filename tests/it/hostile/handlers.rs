//! Activities that pass the inbox (202, I9) and that the worker must refuse or ignore:
//! forged `attributedTo`, edits and deletes of what the sender does not own, objects on our
//! domain or another host, reactions to what is not ours, unproven moves.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{db::queries, domain::ActorKind};
use serde_json::json;

use super::Suite;
use crate::support::{
    Options,
    fake_remote::{Doc, instance_with_fakes},
    wait::inbox_handled,
};

#[tokio::test]
async fn activities_the_worker_must_refuse_are_accepted_then_change_nothing() {
    let (a, fake1, fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake1.actor("bob");
    let carol = fake2.actor("carol");

    // Ada's reply is stored; ada likes the update; carol is known.
    let reply = ada.note(Some(&update.ap_id), "<p>Great!</p>");
    let create = ada.activity("Create", reply.clone());
    assert_eq!(ada.send(&a, &create).await, 202);
    assert_eq!(inbox_handled(&a, create["id"].as_str().unwrap()).await.0, InboxState::Done);
    let like = ada.activity("Like", json!(update.ap_id));
    assert_eq!(ada.send(&a, &like).await, 202);
    assert_eq!(inbox_handled(&a, like["id"].as_str().unwrap()).await.0, InboxState::Done);
    for actor in [&bob, &carol] {
        let hello = actor.activity("Listen", json!(brand.ap_id));
        assert_eq!(actor.send(&a, &hello).await, 202);
        inbox_handled(&a, hello["id"].as_str().unwrap()).await;
    }
    let reply_id = reply["id"].as_str().unwrap().to_owned();
    let mut s = Suite::new(&a).await;

    // Creates that forge where a note comes from.
    let mut forged = ada.note(Some(&update.ap_id), "in bob's name");
    forged["attributedTo"] = json!(bob.id);
    s.accepted_but_refused("Create with a forged attributedTo", &ada, &ada.activity("Create", forged)).await;
    let mut forged = ada.note(Some(&update.ap_id), "in the brand's name");
    forged["attributedTo"] = json!(brand.ap_id);
    s.accepted_but_refused("Create attributed to our own actor", &ada, &ada.activity("Create", forged)).await;
    let mut elsewhere = ada.note(Some(&update.ap_id), "from another host");
    elsewhere["id"] = json!(format!("{}/notes/elsewhere", fake2.base));
    fake2.put(&format!("{}/notes/elsewhere", fake2.base), Doc::Json(elsewhere.clone()));
    s.accepted_but_refused("Create whose Note is on another host", &ada, &ada.activity("Create", elsewhere)).await;
    let mut ours = ada.note(Some(&update.ap_id), "claims our domain");
    ours["id"] = json!(format!("{}/users/acme/posts/forged", a.base));
    s.accepted_but_refused("Create whose Note id is on our domain", &ada, &ada.activity("Create", ours)).await;
    let mut nested = ada.note(Some(&update.ap_id), "object id is an object");
    nested["id"] = json!({"id": nested["id"]});
    s.accepted_but_refused("Create whose Note id is an object", &ada, &ada.activity("Create", nested)).await;
    let many: Vec<u8> = vec![0; 400_000];
    s.accepted_but_refused(
        "Create whose object is an array of 400,000 numbers",
        &ada,
        &ada.activity("Create", json!(many)),
    )
    .await;
    let mut long_parent = ada.note(None, "parent URL of 900 kB");
    long_parent["inReplyTo"] = json!(format!("{}/{}", update.ap_id, "x".repeat(900_000)));
    s.accepted_but_refused("Create whose inReplyTo is 900 kB", &ada, &ada.activity("Create", long_parent)).await;

    // Edits and deletes of what the sender does not own; an Update never creates.
    let mut edit = reply.clone();
    edit["content"] = json!("bob was here");
    s.accepted_but_refused("Update of someone else's note", &bob, &bob.activity("Update", edit)).await;
    let unknown = ada.note(Some(&update.ap_id), "never created");
    s.accepted_but_refused("Update of an unknown note", &ada, &ada.activity("Update", unknown)).await;
    let mut ours = reply.clone();
    ours["id"] = json!(update.ap_id);
    ours["attributedTo"] = json!(ada.id);
    s.accepted_but_refused("Update of our own note", &ada, &ada.activity("Update", ours)).await;
    let mut brand_doc = ada.doc.clone();
    brand_doc["id"] = json!(brand.ap_id);
    s.accepted_but_refused("Update of our own actor", &ada, &ada.activity("Update", brand_doc)).await;
    let mut ada_doc = ada.doc.clone();
    ada_doc["name"] = json!("renamed by bob");
    s.accepted_but_refused("Update of another remote actor", &bob, &bob.activity("Update", ada_doc)).await;
    s.accepted_but_refused("Delete of our own post", &ada, &ada.activity("Delete", json!(update.ap_id))).await;
    s.accepted_but_refused("Delete of our own actor", &ada, &ada.activity("Delete", json!(brand.ap_id))).await;
    let tombstone = json!({"id": update.ap_id, "type": "Tombstone"});
    s.accepted_but_refused("Delete of our own post as a Tombstone", &ada, &ada.activity("Delete", tombstone)).await;
    s.accepted_but_refused("Delete of someone else's note", &bob, &bob.activity("Delete", json!(reply_id))).await;
    s.accepted_but_refused("Delete of another actor", &bob, &bob.activity("Delete", json!(ada.id))).await;

    // Reactions to what is not ours, and undoing someone else's.
    let remote_note = format!("{}/notes/not-ours", fake1.base);
    s.accepted_but_refused("Like of a note that is not ours", &ada, &ada.activity("Like", json!(remote_note))).await;
    s.accepted_but_refused("Announce of a note that is not ours", &ada, &ada.activity("Announce", json!(remote_note)))
        .await;
    let missing = format!("{}/users/acme/posts/00000000-0000-0000-0000-000000000000", a.base);
    s.accepted_but_refused("Like of a post of ours that does not exist", &ada, &ada.activity("Like", json!(missing)))
        .await;
    s.accepted_but_refused("Like of one of our actors", &ada, &ada.activity("Like", json!(brand.ap_id))).await;
    s.accepted_but_refused("Undo of someone else's Like", &bob, &bob.activity("Undo", like.clone())).await;
    s.accepted_but_refused("Undo of someone else's Like by id", &bob, &bob.activity("Undo", like["id"].clone())).await;

    // Blocks, moves and reports that do not concern us or are not proven.
    s.accepted_but_refused("Block of an actor that is not ours", &ada, &ada.activity("Block", json!(carol.id))).await;
    let mut moved = bob.activity("Move", json!(ada.id));
    moved["target"] = json!(carol.id);
    s.accepted_but_refused("Move of another actor", &bob, &moved).await;
    let mut unproven = ada.activity("Move", json!(ada.id));
    unproven["target"] = json!(carol.id);
    s.accepted_but_refused("Move to an actor that does not name the old one", &ada, &unproven).await;
    s.accepted_but_refused("Flag without objects", &ada, &ada.activity("Flag", json!([]))).await;

    // Nothing above touched ada's reply or the update.
    let row = queries::posts::find_by_ap_id(&a.state.db, &reply_id).await.unwrap().unwrap();
    assert!(row.content_html.contains("Great!") && row.deleted_at.is_none());
    let cases = s.finish(25);
    println!("{cases} handler-level hostile cases refused by the worker");
}
