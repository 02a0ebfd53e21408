//! Conversations on the staff side, over HTTP on two instances: B's staff member replies to
//! A's update (`in_reply_to`), A answers as the brand, B receives a reply that mentions and
//! addresses Ada; the conversation goes from unanswered to answered in
//! `GET /api/v1/conversations` with its time to first response; the update's page shows the
//! thread nested with its counts, escapes what remote servers send and pages long threads.

use chrono::{Duration, Utc};
use openhouse::{
    db::{
        entities::{activities, actors, conversations, inbox_activities, posts},
        queries,
    },
    domain::ActorKind,
    services::tokens,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::support::{TestApp, eventually, two_instances};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A remote actor stored as if fetched (for threads whose authors need no network).
pub async fn remote_actor(db: &impl ConnectionTrait, host: &str, name: &str, display_name: &str) -> actors::Model {
    let ap_id = format!("https://{host}/users/{name}");
    queries::actors::upsert_remote(
        db,
        queries::actors::RemoteActorRow {
            display_name: display_name.into(),
            shared_inbox_url: Some(format!("https://{host}/inbox")),
            profile_url: Some(format!("https://{host}/@{name}")),
            ..queries::actors::RemoteActorRow::person(&ap_id, name, host)
        },
    )
    .await
    .unwrap()
}

/// A remote reply stored under `parent` as the inbound side stores one (ADR 0008), with a
/// conversation row for `to` when given.
pub async fn remote_reply(
    db: &impl ConnectionTrait,
    author: &actors::Model,
    parent: &posts::Model,
    html: &str,
    to: Option<&actors::Model>,
) -> posts::Model {
    let now = Utc::now();
    let ap_id = format!("{}/statuses/{}", author.ap_id, uuid::Uuid::new_v4());
    let post = posts::Entity::insert(posts::ActiveModel {
        ap_id: Set(ap_id.clone()),
        actor_id: Set(author.id),
        local: Set(false),
        content_source: Set(String::new()),
        content_html: Set(html.into()),
        summary: Set(None),
        sensitive: Set(false),
        visibility: Set("public".into()),
        in_reply_to_ap_id: Set(Some(parent.ap_id.clone())),
        in_reply_to_post_id: Set(Some(parent.id)),
        thread_root_id: Set(Some(parent.thread_root_id.unwrap_or(parent.id))),
        depth: Set(parent.depth + 1),
        url: Set(Some(ap_id)),
        published_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
    .unwrap();
    if let Some(local) = to {
        conversations::Entity::insert(conversations::ActiveModel {
            actor_id: Set(local.id),
            post_id: Set(post.id),
            kind: Set(conversations::KIND_REPLY.into()),
            thread_root_id: Set(post.thread_root_id.unwrap_or(post.id)),
            received_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .unwrap();
    }
    post
}

/// The activity of `kind` whose object is `object_id` (embedded, or named by its id), as
/// `app`'s inbox stored it. The inbox drops the payload once processed (I12), so the body
/// is read from what `sender` sent under the same id.
async fn received(app: &TestApp, sender: &TestApp, kind: &str, object_id: &str) -> Option<Value> {
    let rows = inbox_activities::Entity::find()
        .filter(inbox_activities::Column::ActivityType.eq(kind))
        .all(&app.state.db)
        .await
        .unwrap();
    for row in rows {
        let sent = activities::Entity::find()
            .filter(activities::Column::ApId.eq(row.ap_id.as_str()))
            .one(&sender.state.db)
            .await
            .unwrap()?;
        let json: Value = serde_json::from_str(&sent.payload).unwrap();
        if json["object"]["id"] == object_id || json["object"] == object_id {
            return Some(json);
        }
    }
    None
}

/// The stored copy of a post on `app`, waiting for the inbound side to store it.
async fn stored_post(app: &TestApp, ap_id: &str) -> posts::Model {
    let ap_id = ap_id.to_owned();
    eventually(20, "the post is stored", || {
        let ap_id = ap_id.clone();
        async move { queries::posts::find_by_ap_id(&app.state.db, &ap_id).await.unwrap() }
    })
    .await
}

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
    let create = eventually(20, "A received Ada's reply", || received(&a, &b, "Create", &reply_url)).await;
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
    let create = eventually(20, "B received the answer", || received(&b, &a, "Create", &answer_url)).await;
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
    let boosted = eventually(20, "A stored the boost", || received(&a, &b, "Announce", &update_url)).await;
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

/// (likes, boosts) of the post `url` as `app` counts them.
async fn counts(app: &TestApp, url: &str) -> (i32, i32) {
    let post = queries::posts::find_by_ap_id(&app.state.db, url).await.unwrap().unwrap();
    (post.likes_count, post.announces_count)
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

#[tokio::test]
async fn the_thread_page_nests_counts_escapes_and_pages() {
    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let (_, root) = a.api_publish(token.expose(), json!({ "actor": "acme", "text": "Root" })).await;
    let root_url = root["url"].as_str().unwrap().to_owned();
    let root = queries::posts::find(&a.state.db, root["id"].as_i64().unwrap()).await.unwrap().unwrap();
    let eve = remote_actor(&a.state.db, "evil.example", "eve", "<script>alert(1)</script> Eve").await;
    let first = remote_reply(&a.state.db, &eve, &root, "<p>first</p>", None).await;
    let nested = remote_reply(&a.state.db, &eve, &first, "<p>nested</p>", None).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::Summary, sea_orm::sea_query::Expr::value("<img src=x onerror=alert(2)>"))
        .col_expr(
            posts::Column::Attachments,
            sea_orm::sea_query::Expr::value(
                json!([{ "url": "https://evil.example/cat.png", "media_type": "image/png", "name": "a <cat>" },
                       { "url": "javascript:alert(3)", "media_type": "image/png", "name": "x" }])
                .to_string(),
            ),
        )
        .col_expr(posts::Column::LikesCount, sea_orm::sea_query::Expr::value(3))
        .filter(posts::Column::Id.eq(nested.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    posts::Entity::update_many()
        .col_expr(posts::Column::LikesCount, sea_orm::sea_query::Expr::value(2))
        .col_expr(posts::Column::AnnouncesCount, sea_orm::sea_query::Expr::value(1))
        .filter(posts::Column::Id.eq(root.id))
        .exec(&a.state.db)
        .await
        .unwrap();

    let path = root_url.strip_prefix(&a.base).unwrap().to_owned();
    let response = a.get_html(&path).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<span class="count likes" data-count="2">2 likes</span>"#), "{html}");
    assert!(html.contains(r#"<span class="count boosts" data-count="1">1 boost</span>"#));
    assert!(html.contains(r#"<span class="count likes" data-count="3">3 likes</span>"#));
    assert!(!html.contains("<script>alert(1)"), "display names are escaped");
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Eve"), "{html}");
    assert!(!html.contains("<img src=x"), "content warnings are escaped");
    assert!(html.contains(r#"href="https://evil.example/@eve""#), "handles link to their home server");
    assert!(html.contains("@eve@evil.example"));
    assert!(html.contains(
        r#"<a href="https://evil.example/cat.png" rel="nofollow noopener noreferrer ugc">Attached: a &#60;cat&#62;</a>"#
    ));
    assert!(!html.contains("src=\"https://evil.example"), "remote media is never embedded");
    assert!(!html.contains("javascript:alert(3)"));
    let at_first = html.find(&format!("data-ap-id=\"{}\"", first.ap_id)).unwrap();
    let at_nested = html.find(&format!("data-ap-id=\"{}\"", nested.ap_id)).unwrap();
    assert!(html[at_first..at_nested].contains("<ol class=\"replies\">"));
    assert_eq!(html.matches("<ol").count(), html.matches("</ol>").count(), "balanced lists");
    let items = html.matches("<li>").count() + html.matches("<li ").count();
    assert_eq!(items, html.matches("</li>").count(), "balanced items");

    // Past a page of direct replies, the page links to the next one.
    for i in 0..150 {
        remote_reply(&a.state.db, &eve, &root, &format!("<p>reply number {i}</p>"), None).await;
    }
    let html = a.get_html(&path).await.text().await.unwrap();
    assert!(html.contains("151 replies"));
    assert!(html.contains(&format!("href=\"{root_url}?page=2#replies\"")));
    assert!(html.contains("reply number 98<"));
    assert!(!html.contains("reply number 99<"));
    let html = a.get_html(&format!("{path}?page=2")).await.text().await.unwrap();
    assert!(html.contains("reply number 99<") && html.contains("reply number 149<"));
    assert!(!html.contains("reply number 98<"));
    assert!(html.contains(&format!("href=\"{root_url}?page=1#replies\"")));
    assert!(!html.contains("?page=3"));
}

#[tokio::test]
async fn the_thread_page_is_served_again_until_its_thread_changes() {
    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let (_, root) = a.api_publish(token.expose(), json!({ "actor": "acme", "text": "Root" })).await;
    let root_url = root["url"].as_str().unwrap().to_owned();
    let path = root_url.strip_prefix(&a.base).unwrap().to_owned();
    let root = queries::posts::find(&a.state.db, root["id"].as_i64().unwrap()).await.unwrap().unwrap();
    let eve = remote_actor(&a.state.db, "remote.example", "eve", "Eve").await;
    let first = remote_reply(&a.state.db, &eve, &root, "<p>first</p>", None).await;

    // The page and its validator; the browser's copy is confirmed with a 304 and no body.
    let page = |inm: Option<String>| {
        let mut request = a.client.get(&root_url).header("accept", "text/html");
        if let Some(tag) = inm {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let response = page(None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(response.text().await.unwrap().contains("<p>first</p>"));
    let response = page(Some(etag.clone())).await.unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.text().await.unwrap().is_empty());
    assert_eq!(page(Some(format!("W/\"other\", {etag}"))).await.unwrap().status(), 304, "a list of tags");
    let again = a.get_html(&path).await;
    assert_eq!(again.headers()["etag"], etag.as_str(), "unchanged thread, same page");

    // Every change the page shows gives a new page: a new reply, an edit, a like, a delete.
    let mut seen = vec![etag];
    let mut expect_change = async |what: &str, shows: &str, hides: Option<&str>| {
        let response = page(seen.last().cloned()).await.unwrap();
        assert_eq!(response.status(), 200, "{what}: the page changed");
        let tag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert!(!seen.contains(&tag), "{what}: a new validator");
        let html = response.text().await.unwrap();
        assert!(html.contains(shows), "{what}: {html}");
        if let Some(gone) = hides {
            assert!(!html.contains(gone), "{what}: {html}");
        }
        seen.push(tag);
    };
    let second = remote_reply(&a.state.db, &eve, &first, "<p>second</p>", None).await;
    expect_change("a nested reply", "<p>second</p>", None).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::ContentHtml, sea_orm::sea_query::Expr::value("<p>second, edited</p>"))
        .col_expr(posts::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now() + Duration::seconds(1)))
        .filter(posts::Column::Id.eq(second.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    expect_change("an edit", "<p>second, edited</p>", Some("<p>second</p>")).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::LikesCount, sea_orm::sea_query::Expr::value(4))
        .filter(posts::Column::Id.eq(first.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    expect_change("a like on a reply", r#"data-count="4">4 likes"#, None).await;
    posts::Entity::update_many()
        .col_expr(posts::Column::ContentHtml, sea_orm::sea_query::Expr::value(""))
        .col_expr(posts::Column::DeletedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(posts::Column::Id.eq(second.id))
        .exec(&a.state.db)
        .await
        .unwrap();
    expect_change("a delete", "<p>first</p>", Some("second, edited")).await;

    // A deleted update is gone at once, cached page or not.
    let response = a.client.delete(format!("{}/api/v1/posts/{}", a.base, root.id)).bearer_auth(token.expose());
    assert_eq!(response.send().await.unwrap().status(), 200);
    assert_eq!(a.get_html(&path).await.status(), 410);
}

#[tokio::test]
async fn reactions_are_checked_and_counted_once() {
    let a = TestApp::spawn().await;
    let acme = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    a.create_actor("bob", ActorKind::Staff, "Bob").await;
    let (_, token) = tokens::create(&a.state.db, "t", None).await.unwrap();
    let (_, acme_only) = tokens::create(&a.state.db, "acme only", Some(&acme)).await.unwrap();
    let token = token.expose().to_owned();
    let (_, post) = a.api_publish(&token, json!({ "actor": "acme", "text": "Vote for the next feature" })).await;
    let url = post["url"].as_str().unwrap().to_owned();

    let (status, body) = a.api_react(&token, "bob", &url, "love").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = a.api_react(&token, "nobody", &url, "like").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = a.api_react(&token, "bob", "not a url", "like").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = a.api_react(&token, "bob", &format!("{}/users/acme/posts/999999", a.base), "like").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = a.api_react(acme_only.expose(), "bob", &url, "like").await;
    assert_eq!(status, 403, "a token for @acme cannot act as @bob: {body}");
    let response = a.client.post(format!("{}/api/v1/reactions", a.base)).bearer_auth(&token).body("{").send();
    assert_eq!(response.await.unwrap().status(), 400);

    // A staff member +1s the brand's post: counted once, withdrawn once.
    let (status, like) = a.api_react(&token, "bob", &url, "like").await;
    assert_eq!(status, 201, "{like}");
    assert_eq!(a.api_react(&token, "bob", &url, "like").await.0, 200);
    assert_eq!(counts(&a, &url).await, (1, 0));
    let withdraw = |token: String| {
        a.client.delete(format!("{}/api/v1/reactions/{}", a.base, like["id"])).bearer_auth(token).send()
    };
    assert_eq!(withdraw(acme_only.expose().to_owned()).await.unwrap().status(), 403);
    assert_eq!(withdraw(token.clone()).await.unwrap().status(), 200);
    assert_eq!(withdraw(token.clone()).await.unwrap().status(), 404, "withdrawn already");
    assert_eq!(counts(&a, &url).await, (0, 0));
    let response = a.client.delete(format!("{}/api/v1/reactions/abc", a.base)).bearer_auth(&token).send();
    assert_eq!(response.await.unwrap().status(), 404);
}

/// The partial indexes of migration 000006 (rows that are scheduled, or waiting for a parent
/// fetch) still serve the queries they were made for, on both engines: each query's own
/// conditions imply the index's. The statements have the conditions of
/// `queries::posts::due` and of the parent-fetch claim in `services::conversations`.
#[tokio::test]
async fn partial_post_indexes_serve_their_queries() {
    use sea_orm::{QueryOrder, QuerySelect, QueryTrait};

    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let now = Utc::now();
    let queries = [
        (
            "ix_posts_scheduled_due",
            posts::Entity::find()
                .filter(posts::Column::ScheduledAt.lte(now))
                .filter(posts::Column::PublishedAt.is_null())
                .order_by_asc(posts::Column::ScheduledAt)
                .limit(10)
                .build(backend),
        ),
        (
            "ix_posts_parent_fetch_due",
            posts::Entity::find()
                .filter(posts::Column::ParentFetchAfter.lte(now))
                .order_by_asc(posts::Column::ParentFetchAfter)
                .limit(10)
                .build(backend),
        ),
    ];
    for (index, query) in queries {
        let plan = crate::support::query_plan(db, query, true).await;
        assert!(plan.contains(index), "{index} does not serve its query:\n{plan}");
    }
}

/// Finding the orphans a batch of notes may answer (`queries::posts::answering`) searches
/// the `inReplyTo` index, whatever the number of top-level posts: with `in_reply_to_post_id
/// IS NULL` in the statement, SQLite (which plans without statistics) searched
/// `ix_posts_parent` for the NULLs instead, reading every top-level post once per batch of
/// replies, and so did PostgreSQL without statistics. PostgreSQL is asked both without
/// statistics and with those of 3,000 top-level posts.
#[tokio::test]
async fn orphan_lookups_search_the_in_reply_to_index() {
    use sea_orm::{DbBackend, QuerySelect, QueryTrait};

    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let ids = ["https://r.example/notes/1", "https://r.example/notes/2", "https://r.example/notes/3"];
    let assert_plans = |forbid_scans: bool| async move {
        let queries = [
            // What a batch prefetches: the answers to its notes.
            queries::posts::answering(ids)
                .select_only()
                .column(posts::Column::InReplyToApId)
                .column(posts::Column::InReplyToPostId)
                .build(backend),
            // What storing one note re-links: the answers to it.
            queries::posts::answering([ids[0]]).filter(posts::Column::Id.ne(1)).build(backend),
        ];
        for query in queries {
            let plan = crate::support::query_plan(db, query, forbid_scans).await;
            assert!(plan.contains("ix_posts_in_reply_to_ap_id"), "the inReplyTo index does not serve:\n{plan}");
            assert!(!plan.contains("ix_posts_parent"), "top-level posts are searched:\n{plan}");
        }
    };
    // Without statistics (PostgreSQL would scan a table this small: forbid that).
    assert_plans(true).await;
    if backend == DbBackend::Sqlite {
        return;
    }
    // With the statistics of 3,000 top-level posts.
    let author = remote_actor(db, "r.example", "ada", "Ada").await;
    let now = Utc::now();
    for chunk in (0..3_000).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|n| posts::ActiveModel {
            ap_id: Set(format!("https://r.example/notes/top-{n}")),
            actor_id: Set(author.id),
            local: Set(false),
            content_source: Set(String::new()),
            content_html: Set(String::new()),
            sensitive: Set(false),
            visibility: Set("public".into()),
            published_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        posts::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    }
    db.execute_unprepared("ANALYZE posts").await.unwrap();
    assert_plans(false).await;
}

/// Storing a fetched actor is one upsert (`queries::actors::upsert_remote`): it refreshes a
/// remote row in place, keeps its id and `published`, records `alsoKnownAs` and `movedTo`,
/// and never overwrites one of our accounts, whatever a remote document claims.
#[tokio::test]
async fn the_actor_upsert_refreshes_remote_rows_and_never_touches_ours() {
    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let db = &app.state.db;
    let first = remote_actor(db, "r.example", "ada", "Ada").await;
    let mut row = queries::actors::RemoteActorRow {
        display_name: "Ada L.".into(),
        public_key_pem: "rotated".into(),
        public_key_id: format!("{}#key-2", first.ap_id),
        manually_approves_followers: true,
        discoverable: false,
        also_known_as_json: Some(r#"["https://old.example/users/ada"]"#.into()),
        moved_to: Some("https://new.example/users/ada".into()),
        ..queries::actors::RemoteActorRow::person(&first.ap_id, "ada", "r.example")
    };
    let second = queries::actors::upsert_remote(db, row.clone()).await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.published, first.published);
    assert_eq!(second.display_name, "Ada L.");
    assert_eq!(second.public_key_id, row.public_key_id);
    assert!(second.manually_approves_followers);
    assert_eq!(second.also_known_as, row.also_known_as_json);
    assert_eq!(second.moved_to_ap_id, row.moved_to);

    let ours = app.create_actor("acme", ActorKind::Brand, "Acme").await;
    row.ap_id = ours.ap_id.clone();
    row.public_key_id = format!("{}#main-key-evil", ours.ap_id);
    let refused = queries::actors::upsert_remote(db, row).await;
    assert!(refused.is_err(), "a local actor was overwritten: {refused:?}");
    let after = actors::Entity::find_by_id(ours.id).one(db).await.unwrap().unwrap();
    assert_eq!(after.public_key_id, ours.public_key_id);
    assert_eq!(after.display_name, ours.display_name);
    assert!(after.local);
}

/// Concurrent first contacts store their actors together (`federation::actor_writer`): each
/// caller gets its own row, and one refused row (an id of one of our accounts) fails alone.
#[tokio::test]
async fn concurrent_actor_stores_share_a_batch_and_fail_alone() {
    let app = TestApp::spawn_with(crate::support::Options { no_workers: true, ..Default::default() }).await;
    let ours = app.create_actor("acme", ActorKind::Brand, "Acme").await;
    let writer = app.state.federation.actor_writer.clone();
    let row = |ap_id: String| queries::actors::RemoteActorRow {
        display_name: ap_id.clone(),
        ..queries::actors::RemoteActorRow::person(&ap_id, ap_id.rsplit('/').next().unwrap_or_default(), "r.example")
    };
    let mut ids: Vec<String> = (0..20).map(|n| format!("https://r.example/users/u{n}")).collect();
    ids.insert(7, ours.ap_id.clone());
    let mut stores = tokio::task::JoinSet::new();
    for id in &ids {
        let (writer, id, row) = (writer.clone(), id.clone(), row(id.clone()));
        stores.spawn(async move { (id, writer.upsert(row).await) });
    }
    let mut answered = 0;
    while let Some(joined) = stores.join_next().await {
        let (id, result) = joined.unwrap();
        answered += 1;
        if id == ours.ap_id {
            assert!(result.is_err(), "our own account was overwritten");
        } else {
            let stored = result.unwrap();
            assert_eq!(stored.ap_id, id);
            assert_eq!(stored.display_name, id);
        }
    }
    assert_eq!(answered, ids.len());
    let after = actors::Entity::find_by_id(ours.id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(after.display_name, ours.display_name);
    assert!(after.local);
}
