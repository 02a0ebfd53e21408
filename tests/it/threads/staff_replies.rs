//! Staff replies between two instances: B's staff member answers A's update, A answers as
//! the brand, the person answered is mentioned and addressed; and what the API refuses.

use openhouse::{
    db::{entities::posts, queries},
    domain::ActorKind,
    services::tokens,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::support::{TestApp, eventually, two_instances};

use super::{PUBLIC, counts, remote_actor, remote_reply, stored_post};
use crate::support::wait::received;

#[tokio::test]
async fn a_remote_reply_is_answered_by_the_brand_and_the_person_is_mentioned_and_addressed() {
    let (a, b) = two_instances().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let (_, a_token) = tokens::create(&a.state.db, "support", None).await.unwrap();
    let (_, b_token) = tokens::create(&b.state.db, "ada", None).await.unwrap();
    let (a_token, b_token) = (a_token.expose().to_owned(), b_token.expose().to_owned());

    let (status, update) =
        a.api_publish(&a_token, json!({ "actor": "acme", "text": "Acme 3.0 is out. Thoughts?" })).await;
    assert_eq!(status, 201, "{update}");
    let update_url = update["url"].as_str().unwrap().to_owned();

    // B's staff member replies: B fetches the update from A (it does not hold it).
    let (status, reply) = b
        .api_publish(
            &b_token,
            json!({ "actor": "ada", "text": "Love it, but <b>the export</b> fails.", "in_reply_to": update_url }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let reply_url = reply["url"].as_str().unwrap().to_owned();
    assert_eq!(reply["in_reply_to"], update_url);
    let (create, _) = eventually(20, "A received Ada's reply", || received(&a, &b, "Create", &reply_url)).await;
    let note = &create["object"];
    assert_eq!(note["inReplyTo"], update_url);
    let acme_handle = format!("@acme@{}", a.addr);
    assert_eq!(note["tag"], json!([{ "type": "Mention", "href": a.actor_url("acme"), "name": acme_handle }]));
    assert_eq!(note["to"], json!([PUBLIC]));
    assert_eq!(note["cc"], json!([format!("{}/followers", b.actor_url("ada")), a.actor_url("acme")]));
    assert!(note["content"].as_str().unwrap().contains("&lt;b&gt;the export&lt;/b&gt; fails"), "{note}");

    // A's inbox worker stores the reply under the update and opens a conversation for the brand.
    let update_row = queries::posts::find_by_ap_id(&a.state.db, &update_url).await.unwrap().unwrap();
    let reply_row = stored_post(&a, &reply_url).await;
    assert_eq!(reply_row.in_reply_to_post_id, Some(update_row.id));

    eventually(20, "A opened a conversation for the reply", || async {
        let (_, open) = a.api_conversations(&a_token, "state=unanswered").await;
        (!open["items"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    let (status, open) = a.api_conversations(&a_token, "state=unanswered").await;
    assert_eq!(status, 200, "{open}");
    let items = open["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{open}");
    assert_eq!(items[0]["post"]["url"], reply_url);
    assert_eq!(items[0]["author"]["handle"], format!("@ada@{}", b.addr));
    assert_eq!(items[0]["actor"]["id"], brand.ap_id);
    assert_eq!(items[0]["thread_root"]["url"], update_url);
    assert_eq!(items[0]["answered"], false);
    assert_eq!(items[0]["time_to_first_response_seconds"], Value::Null);
    let (_, answered) = a.api_conversations(&a_token, "state=answered").await;
    assert_eq!(answered["items"], json!([]));

    // A answers as the brand.
    let (status, answer) = a
        .api_publish(
            &a_token,
            json!({ "actor": "acme", "text": "Sorry! A fix ships tomorrow.", "in_reply_to": reply_url }),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let answer_url = answer["url"].as_str().unwrap().to_owned();

    // B receives it: Ada is named in a Mention and addressed, so her server notifies her.
    let (create, _) = eventually(20, "B received the answer", || received(&b, &a, "Create", &answer_url)).await;
    let note = &create["object"];
    let ada_handle = format!("@ada@{}", b.addr);
    assert_eq!(note["inReplyTo"], reply_url);
    assert_eq!(note["attributedTo"], a.actor_url("acme"));
    assert_eq!(note["tag"], json!([{ "type": "Mention", "href": b.actor_url("ada"), "name": ada_handle }]));
    assert_eq!(note["to"], json!([PUBLIC]));
    assert_eq!(note["cc"], json!([format!("{}/followers", a.actor_url("acme")), b.actor_url("ada")]));
    assert!(note["content"].as_str().unwrap().contains(&format!(">{ada_handle}</a>")), "{note}");
    assert!(note["content"].as_str().unwrap().contains("A fix ships tomorrow."), "{note}");

    // The conversation is answered, by that post, with a time to first response.
    let (_, open) = a.api_conversations(&a_token, "state=unanswered").await;
    assert_eq!(open["items"], json!([]));
    let (_, done) = a.api_conversations(&a_token, "state=answered&actor=acme").await;
    let item = &done["items"][0];
    assert_eq!(item["post"]["url"], reply_url);
    assert_eq!(item["answered"], true);
    assert_eq!(item["answer"]["url"], answer_url);
    let seconds = item["time_to_first_response_seconds"].as_i64().unwrap();
    assert!((0..60).contains(&seconds), "{item}");

    // The update's page shows the reply under it and the answer under the reply.
    let path = update_url.strip_prefix(&a.base).unwrap();
    let html = a.get_html(path).await.text().await.unwrap();
    let at_reply = html.find(&format!("data-ap-id=\"{reply_url}\"")).expect("the reply is on the page");
    let at_answer = html.find(&format!("data-ap-id=\"{answer_url}\"")).expect("the answer is on the page");
    assert!(at_reply < at_answer);
    let between = &html[at_reply..at_answer];
    assert!(between.contains("<ol class=\"replies\">"), "the answer is nested under the reply: {between}");
    assert!(html.contains("&lt;b&gt;the export&lt;/b&gt;"));
    // Ada likes and boosts the update, and likes the answer: A counts them.
    let (status, like) = b.api_react(&b_token, "ada", &update_url, "like").await;
    assert_eq!(status, 201, "{like}");
    assert!(like["ap_id"].as_str().unwrap().starts_with(&format!("{}#likes/", b.actor_url("ada"))), "{like}");
    let (status, again) = b.api_react(&b_token, "ada", &update_url, "like").await;
    assert_eq!((status, &again["id"]), (200, &like["id"]), "liking twice is one like: {again}");
    let (status, boost) = b.api_react(&b_token, "ada", &update_url, "boost").await;
    assert_eq!(status, 201, "{boost}");
    let (status, answer_like) = b.api_react(&b_token, "ada", &answer_url, "like").await;
    assert_eq!(status, 201, "{answer_like}");
    eventually(20, "A counted the like and the boost", || async {
        (counts(&a, &update_url).await == (1, 1) && counts(&a, &answer_url).await == (1, 0)).then_some(())
    })
    .await;
    let (boosted, _) = eventually(20, "A stored the boost", || received(&a, &b, "Announce", &update_url)).await;
    assert_eq!(boosted["actor"], b.actor_url("ada"));
    assert_eq!(boosted["to"], json!([PUBLIC]));
    assert_eq!(boosted["cc"], json!([a.actor_url("acme"), format!("{}/followers", b.actor_url("ada"))]));
    let html = a.get_html(path).await.text().await.unwrap();
    assert!(html.contains(r#"<span class="count likes" data-count="1">1 like</span>"#), "{html}");
    assert!(html.contains(r#"<span class="count boosts" data-count="1">1 boost</span>"#), "{html}");

    // Ada withdraws them: A counts nothing.
    for reaction in [&like, &boost, &answer_like] {
        let url = format!("{}/api/v1/reactions/{}", b.base, reaction["id"]);
        let response = b.client.delete(url).bearer_auth(&b_token).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    eventually(20, "A uncounted the like and the boost", || async {
        (counts(&a, &update_url).await == (0, 0) && counts(&a, &answer_url).await == (0, 0)).then_some(())
    })
    .await;

    // Ada edits her reply, then deletes it: A shows the edit, then a tombstone.
    let reply_id = reply["id"].as_i64().unwrap();
    let response = b
        .client
        .patch(format!("{}/api/v1/posts/{reply_id}", b.base))
        .bearer_auth(&b_token)
        .json(&json!({ "text": "Update: the export works after a restart." }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    eventually(20, "A shows the edited reply", || async {
        let row = stored_post(&a, &reply_url).await;
        row.content_html.contains("the export works after a restart").then_some(())
    })
    .await;
    let response = b.client.delete(format!("{}/api/v1/posts/{reply_id}", b.base)).bearer_auth(&b_token).send();
    assert_eq!(response.await.unwrap().status(), 200);
    eventually(20, "A tombstoned the reply", || async {
        stored_post(&a, &reply_url).await.deleted_at.is_some().then_some(())
    })
    .await;
    let html = a.get_html(path).await.text().await.unwrap();
    assert!(!html.contains("the export works after a restart"), "{html}");
    assert!(html.contains(&format!("data-ap-id=\"{answer_url}\"")), "the answer stays in the thread");
}

#[tokio::test]
async fn replies_are_checked_and_the_api_validates_its_input() {
    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let token = token.expose().to_owned();
    let (_, root) = a.api_publish(&token, json!({ "actor": "acme", "text": "Root" })).await;
    let root_url = root["url"].as_str().unwrap().to_owned();

    // Replying to oneself names no one.
    let (status, own) =
        a.api_publish(&token, json!({ "actor": "acme", "text": "More", "in_reply_to": root_url })).await;
    assert_eq!(status, 201, "{own}");
    let note: Value =
        a.get_activity_json(own["url"].as_str().unwrap().strip_prefix(&a.base).unwrap()).await.json().await.unwrap();
    assert_eq!(note["inReplyTo"], root_url);
    assert_eq!(note["tag"], json!([]));

    for (target, status) in [
        (json!("not a url"), 422),
        (json!("javascript:alert(1)"), 422),
        (json!(format!("{}/users/acme/posts/99999", a.base)), 422),
        (json!(42), 400),
    ] {
        let (got, body) = a.api_publish(&token, json!({ "actor": "acme", "text": "x", "in_reply_to": target })).await;
        assert_eq!(got, status, "{target}: {body}");
        assert!(body["error"].is_string());
    }
    // A private message is not answered in public.
    let root_row = queries::posts::find_by_ap_id(&a.state.db, &root_url).await.unwrap().unwrap();
    let bob = remote_actor(&a.state.db, "social.example", "bob", "Bob").await;
    let dm = remote_reply(&a.state.db, &bob, &root_row, "<p>psst</p>", None).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::Visibility, sea_orm::sea_query::Expr::value("direct"))
        .filter(posts::Column::Id.eq(dm.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    let (got, body) = a.api_publish(&token, json!({ "actor": "acme", "text": "x", "in_reply_to": dm.ap_id })).await;
    assert_eq!(got, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("is not public"), "{body}");
    let stored = posts::Entity::find().all(&a.state.db).await.unwrap().len();
    assert_eq!(stored, 3, "refused replies stored nothing");
    let (got, body) = a
        .api_publish(
            &token,
            json!({ "actor": "acme", "text": "x", "in_reply_to": dm.ap_id, "visibility": "followers" }),
        )
        .await;
    assert_eq!(got, 201, "{body}");

    for (query, status) in
        [("state=maybe", 400), ("limit=0", 400), ("limit=101", 400), ("cursor=abc", 400), ("actor=nobody", 404)]
    {
        let (got, body) = a.api_conversations(&token, query).await;
        assert_eq!(got, status, "{query}: {body}");
    }
    let response = a.client.get(format!("{}/api/v1/conversations", a.base)).send().await.unwrap();
    assert_eq!(response.status(), 401);
}
