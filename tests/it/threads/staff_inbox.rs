//! The staff inbox over the API (`GET /api/v1/conversations`): unanswered and answered,
//! paged with a cursor, filtered by actor, and only the accounts a token may see.

use chrono::{Duration, Utc};
use openhouse::{
    db::{entities::conversations, queries},
    domain::ActorKind,
    services::tokens,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::support::TestApp;

use super::{remote_actor, remote_reply};

#[tokio::test]
async fn the_conversations_inbox_pages_with_a_cursor_and_filters_by_actor() {
    let a = TestApp::spawn().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let product = a.create_actor("widget", ActorKind::Product, "Widget").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let (_, widget_token) = tokens::create(&a.state.db, "w", Some(&product)).await.unwrap();
    let token = token.expose().to_owned();
    let (_, root) = a.api_publish(&token, json!({ "actor": "acme", "text": "Root" })).await;
    let root = queries::posts::find(&a.state.db, root["id"].as_i64().unwrap()).await.unwrap().unwrap();
    let bob = remote_actor(&a.state.db, "social.example", "bob", "Bob").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let to = if i == 2 { &product } else { &brand };
        expected.push(remote_reply(&a.state.db, &bob, &root, &format!("<p>question {i}</p>"), Some(to)).await.ap_id);
    }
    expected.reverse();

    let mut seen = Vec::new();
    let mut query = "state=all&limit=2".to_owned();
    loop {
        let (status, page) = a.api_conversations(&token, &query).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["post"]["url"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => query = format!("state=all&limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, expected, "every conversation once, newest first");

    let (_, widget) = a.api_conversations(&token, "actor=widget").await;
    assert_eq!(widget["items"].as_array().unwrap().len(), 1);
    assert_eq!(widget["items"][0]["actor"]["handle"], format!("@widget@{}", a.addr));
    // A token limited to the product sees only its conversations, and cannot ask for the brand's.
    let (_, own) = a.api_conversations(widget_token.expose(), "").await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    let (status, _) = a.api_conversations(widget_token.expose(), "actor=acme").await;
    assert_eq!(status, 403);

    // An answer in the thread answers the conversations received before it, for every actor.
    let (_, answer) =
        a.api_publish(&token, json!({ "actor": "acme", "text": "Answers below", "in_reply_to": expected[0] })).await;
    let (_, open) = a.api_conversations(&token, "state=unanswered").await;
    assert_eq!(open["items"], json!([]), "{answer}");
    let rows = conversations::Entity::find().all(&a.state.db).await.unwrap();
    assert!(rows.iter().all(|r| r.answer_post_id == answer["id"].as_i64()));
    // A reply received after the answer is a new, unanswered conversation.
    let later = remote_reply(&a.state.db, &bob, &root, "<p>and another</p>", Some(&brand)).await;
    conversations::Entity::update_many()
        .col_expr(conversations::Column::ReceivedAt, sea_orm::sea_query::Expr::value(Utc::now() + Duration::seconds(1)))
        .filter(conversations::Column::PostId.eq(later.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    let (_, open) = a.api_conversations(&token, "state=unanswered").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
}
