//! Remote replies stored and threaded under our posts, edited and deleted by their authors
//! only, replays ignored, strays not kept; and the same from another Openhouse instance.

use openhouse::db::entities::inbox_activities::InboxState;
use openhouse::{
    db::entities::{conversations, posts},
    domain::{ActorKind, Visibility},
    services::posts::{self as post_service, Draft},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::support::{Options, eventually, fake_remote::instance_with_fakes};

use super::post_count;

#[tokio::test]
async fn replies_are_threaded_edited_deleted_counted_and_undone() {
    let (a, fake1, fake2) = instance_with_fakes(Options::default()).await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = fake1.actor("ada");
    let bob = fake2.actor("bob");

    // Ada replies to the update: stored, threaded under it, in the brand's inbox.
    let reply = ada.served_note("1", Some(&update.ap_id), None, "<p>Great! <script>alert(1)</script></p>");
    assert_eq!(ada.deliver(&a, &ada.activity("Create", reply.clone())).await, InboxState::Done);
    let stored = a.post(reply["id"].as_str().unwrap()).await.expect("the reply is stored");
    assert_eq!(stored.in_reply_to_post_id, Some(update.id));
    assert_eq!(stored.thread_root_id, Some(update.id));
    assert_eq!(stored.depth, 1);
    assert!(!stored.local && stored.content_html.contains("Great!") && !stored.content_html.contains("script"));
    let inbox_rows = conversations::Entity::find().all(&a.state.db).await.unwrap();
    assert_eq!(inbox_rows.len(), 1);
    assert_eq!((inbox_rows[0].actor_id, inbox_rows[0].kind.as_str()), (brand.id, "reply"));
    assert!(inbox_rows[0].answered_at.is_none());

    // The same note again (a new Create, and the same Create replayed) changes nothing.
    let before = post_count(&a).await;
    assert_eq!(ada.deliver(&a, &ada.activity("Create", reply.clone())).await, InboxState::Ignored);
    assert_eq!(post_count(&a).await, before);
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 1);

    // Bob, on another host, answers Ada: depth 2 in the same thread, and the brand hears of it.
    let answer = bob.served_note("1", reply["id"].as_str(), None, "me too");
    assert_eq!(bob.deliver(&a, &bob.activity("Create", answer.clone())).await, InboxState::Done);
    let answer_row = a.post(answer["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(
        (answer_row.in_reply_to_post_id, answer_row.thread_root_id, answer_row.depth),
        (Some(stored.id), Some(update.id), 2)
    );
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 2);

    // A note neither answering nor mentioning us is not kept.
    let stray = bob.served_note("stray", None, None, "unrelated");
    assert_eq!(bob.deliver(&a, &bob.activity("Create", stray)).await, InboxState::Ignored);
    assert_eq!(post_count(&a).await, before + 1);

    // The update's replies collection lists Ada's reply, for Mastodon to backfill.
    let replies_url = format!("{}/replies", update.ap_id.trim_start_matches(&a.base));
    let collection: Value = a.get_activity_json(&replies_url).await.json().await.unwrap();
    assert_eq!(collection["totalItems"], 1);
    let page: Value = a.get_activity_json(&format!("{replies_url}?page=1")).await.json().await.unwrap();
    assert_eq!(page["orderedItems"], json!([reply["id"]]));
    let note: Value = a.get_activity_json(update.ap_id.trim_start_matches(&a.base)).await.json().await.unwrap();
    assert_eq!(note["replies"], format!("{}/replies", update.ap_id));

    // Bob may not edit or delete Ada's note; an Update of an unknown note creates nothing.
    let mut forged = reply.clone();
    forged["content"] = json!("forged");
    assert_eq!(bob.deliver(&a, &bob.activity("Update", forged.clone())).await, InboxState::Failed);
    assert_eq!(bob.deliver(&a, &bob.activity("Delete", reply["id"].clone())).await, InboxState::Failed);
    let unknown = ada.served_note("never-created", Some(&update.ap_id), None, "ghost");
    assert_eq!(ada.deliver(&a, &ada.activity("Update", unknown)).await, InboxState::Ignored);
    assert_eq!(post_count(&a).await, before + 1);
    assert!(a.post(reply["id"].as_str().unwrap()).await.unwrap().content_html.contains("Great!"));

    // Ada edits her reply; the same edit again changes nothing.
    let mut edited = reply.clone();
    edited["content"] = json!("<p>Great, edited</p>");
    edited["updated"] = json!("2026-11-23T11:00:00Z");
    assert_eq!(ada.deliver(&a, &ada.activity("Update", edited.clone())).await, InboxState::Done);
    assert_eq!(ada.deliver(&a, &ada.activity("Update", edited)).await, InboxState::Ignored);
    let row = a.post(reply["id"].as_str().unwrap()).await.unwrap();
    assert!(row.content_html.contains("edited") && row.edited_at.is_some());

    // Ada deletes her reply: a tombstone stays in the thread, the brand's inbox row goes.
    assert_eq!(ada.deliver(&a, &ada.activity("Delete", reply["id"].clone())).await, InboxState::Done);
    let row = a.post(reply["id"].as_str().unwrap()).await.unwrap();
    assert!(row.deleted_at.is_some() && row.content_html.is_empty());
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 1);
    let collection: Value = a.get_activity_json(&replies_url).await.json().await.unwrap();
    assert_eq!(collection["totalItems"], 0);
}

#[tokio::test]
async fn an_openhouse_reply_from_another_instance_is_threaded_edited_and_deleted() {
    let (a, b) = crate::support::two_instances().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let update = a.publish(&brand, "v2 is out").await;
    let ada = b.create_actor("ada", ActorKind::Staff, "Ada").await;

    // B writes the answer, scheduled so that its reply link is set before it goes out.
    let text = format!("@acme@{} congratulations!", a.addr);
    let mentions = openhouse::federation::mentions::resolve_mentions(&b.state.federation, &text).await.unwrap();
    let draft = Draft {
        text: text.clone(),
        content_warning: None,
        visibility: Visibility::Public,
        scheduled_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        in_reply_to: None,
        mentioned: mentions.clone(),
        uploads: Vec::new(),
    };
    let media_dir = b.state.config.data_dir.join("media");
    let answer = post_service::publish(&b.state.db, &b.state.urls, &media_dir, &ada, draft).await.unwrap();
    posts::Entity::update_many()
        .col_expr(posts::Column::InReplyToApId, sea_orm::sea_query::Expr::value(update.ap_id.as_str()))
        .col_expr(posts::Column::ScheduledAt, sea_orm::sea_query::Expr::value(chrono::Utc::now()))
        .filter(posts::Column::Id.eq(answer.id))
        .exec(&b.state.db)
        .await
        .unwrap();

    let stored = eventually(30, "A threads B's answer", || async { a.post(&answer.ap_id).await }).await;
    assert_eq!(
        (stored.in_reply_to_post_id, stored.thread_root_id, stored.depth),
        (Some(update.id), Some(update.id), 1)
    );
    assert!(stored.content_html.contains("congratulations"));
    let rows = conversations::Entity::find().all(&a.state.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].actor_id, rows[0].post_id, rows[0].kind.as_str()), (brand.id, stored.id, "reply"));

    // B edits: A follows.
    post_service::edit(&b.state.db, &b.state.urls, &ada, answer.id, &format!("{text} (edited)"), None, &mentions)
        .await
        .unwrap();
    eventually(30, "A applies B's edit", || async {
        a.post(&answer.ap_id).await.filter(|p| p.content_html.contains("edited") && p.edited_at.is_some())
    })
    .await;

    // B deletes: A keeps a tombstone in the thread and drops the inbox row.
    post_service::delete(&b.state.db, &ada, answer.id).await.unwrap();
    let gone = eventually(30, "A applies B's delete", || async {
        a.post(&answer.ap_id).await.filter(|p| p.deleted_at.is_some())
    })
    .await;
    assert!(gone.content_html.is_empty());
    assert_eq!(gone.in_reply_to_post_id, Some(update.id));
    assert_eq!(conversations::Entity::find().count(&a.state.db).await.unwrap(), 0);
}
