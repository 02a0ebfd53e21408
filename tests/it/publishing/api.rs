//! The JSON API for posts: what it refuses and why, publishing, editing and deleting with
//! a token, and when a token was last used.

use chrono::{Duration, SubsecRound, Utc};
use openhouse::{
    db::queries,
    domain::ActorKind,
    federation::mentions::resolve_mentions,
    services::{
        media::Upload,
        posts::{self, Draft},
        tokens,
    },
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::support::TestApp;

use super::{PNG, draft};

#[tokio::test]
async fn invalid_posts_are_refused_with_a_reason() {
    let a = TestApp::spawn().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let dir = a.state.config.data_dir.join("media");
    let publish = |draft: Draft, uploads: Vec<Upload>| {
        let (a, brand, dir) = (&a, &brand, &dir);
        async move { posts::publish(&a.state.db, &a.state.urls, dir, brand, Draft { uploads, ..draft }).await.unwrap_err() }
    };
    let e = publish(draft("   "), vec![]).await;
    assert_eq!((e.status().as_u16(), e.message.as_str()), (422, "the text is empty"));
    let e = publish(draft(&"x".repeat(5_001)), vec![]).await;
    assert!(e.message.contains("at most 5000"), "{}", e.message);
    let e = publish(Draft { content_warning: Some("w".repeat(501)), ..draft("hi") }, vec![]).await;
    assert!(e.message.contains("content warning"), "{}", e.message);
    let e = publish(draft("hi"), vec![Upload { bytes: b"<svg onload=alert(1)>".to_vec(), alt: "x".into() }]).await;
    assert!(e.message.contains("not a PNG"), "{}", e.message);
    let e = publish(draft("hi"), vec![Upload { bytes: PNG.to_vec(), alt: "a".repeat(1_501) }]).await;
    assert!(e.message.contains("alt text"), "{}", e.message);
    let big = [PNG, &vec![0u8; 10 * 1024 * 1024]].concat();
    let e = publish(draft("hi"), vec![Upload { bytes: big, alt: String::new() }]).await;
    assert!(e.message.contains("10 MiB"), "{}", e.message);
    let unknown = resolve_mentions(&a.state.federation, &format!("hi @nobody@{}", a.addr)).await.unwrap_err();
    assert!(unknown.message.contains("no account @nobody@"), "{}", unknown.message);
    // Nothing was stored, and no file was left behind.
    assert_eq!(queries::posts::count_local_published(&a.state.db).await.unwrap(), 0);
    assert!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0) == 0);
    // Someone else's post cannot be changed.
    let other = a.create_actor("beta", ActorKind::Product, "Beta").await;
    let post = posts::publish(&a.state.db, &a.state.urls, &dir, &brand, draft("mine")).await.unwrap();
    let e = posts::edit(&a.state.db, &a.state.urls, &other, post.id, "theirs", None, &[]).await.unwrap_err();
    assert_eq!(e.status().as_u16(), 403);
    assert_eq!(posts::delete(&a.state.db, &other, post.id).await.unwrap_err().status().as_u16(), 403);
}

#[tokio::test]
async fn the_api_publishes_edits_and_deletes_with_a_token() {
    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let beta = a.create_actor("beta", ActorKind::Product, "Beta").await;
    let (_, token) = tokens::create(&a.state.db, "release-pipeline", None).await.unwrap();
    let (_, beta_token) = tokens::create(&a.state.db, "beta-only", Some(&beta)).await.unwrap();
    let url = format!("{}/api/v1/posts", a.base);
    let post = |auth: Option<String>, body: Value| {
        let mut request = a.client.post(&url).json(&body);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send()
    };
    let bearer = format!("Bearer {}", token.expose());
    let body = json!({ "actor": "acme", "text": "Version **3** is out #release", "cw": null, "visibility": "public", "scheduled_at": null });

    for auth in [None, Some("Bearer oh_wrong".to_owned()), Some(format!("Basic {}", token.expose()))] {
        let response = post(auth.clone(), body.clone()).await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"openhouse\"");
        assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    }

    let response = post(Some(bearer.clone()), body.clone()).await.unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["url"], format!("{}/users/acme/posts/{id}", a.base));
    assert_eq!(created["state"], "published");
    let note: Value = a.get_activity_json(&format!("/users/acme/posts/{id}")).await.json().await.unwrap();
    assert!(note["content"].as_str().unwrap().starts_with("<p>Version <strong>3</strong> is out"));
    // Its hashtag page and the profile list it.
    let tag_page = a.get_html("/tags/Release").await;
    assert_eq!(tag_page.status(), 200);
    assert!(tag_page.text().await.unwrap().contains(&format!("/users/acme/posts/{id}")));
    let profile = a.get_html("/@acme").await.text().await.unwrap();
    assert!(profile.contains("Version <strong>3</strong> is out"), "{profile}");
    assert_eq!(a.get_html("/tags/no%20such").await.status(), 404);

    let refusals = [
        (json!({ "actor": "acme", "text": "" }), 422, "the text is empty"),
        (json!({ "actor": "acme", "text": "x".repeat(5_001) }), 422, "at most 5000"),
        (json!({ "actor": "acme", "text": "hi", "visibility": "direct" }), 422, "unknown visibility"),
        (json!({ "actor": "acme", "text": "hi", "scheduled_at": "tomorrow" }), 422, "RFC 3339"),
        (json!({ "actor": "nobody", "text": "hi" }), 404, "no account"),
        (json!({ "actor": "acme" }), 400, "invalid request body"),
        (json!({ "actor": "acme", "text": "hi", "colour": "red" }), 400, "invalid request body"),
    ];
    for (body, status, message) in refusals {
        let response = post(Some(bearer.clone()), body.clone()).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains(message), "{body}: {error}");
    }
    let response = a
        .client
        .post(&url)
        .header("Authorization", &bearer)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // A token limited to one account cannot speak for another.
    let response = post(Some(format!("Bearer {}", beta_token.expose())), body.clone()).await.unwrap();
    assert_eq!(response.status(), 403);

    let item = format!("{url}/{id}");
    let response = a
        .client
        .patch(&item)
        .header("Authorization", &bearer)
        .json(&json!({ "text": "Version 3.0.1", "cw": "Patch notes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let note: Value = a.get_activity_json(&format!("/users/acme/posts/{id}")).await.json().await.unwrap();
    assert_eq!(note["content"], "<p>Version 3.0.1</p>");
    assert_eq!(note["summary"], "Patch notes");
    assert!(note["updated"].is_string());
    let response = a
        .client
        .patch(format!("{url}/9999"))
        .header("Authorization", &bearer)
        .json(&json!({ "text": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = a.client.delete(&item).send().await.unwrap();
    assert_eq!(response.status(), 401);

    let response = a.client.delete(&item).header("Authorization", &bearer).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["state"], "deleted");
    assert_eq!(a.get_activity_json(&format!("/users/acme/posts/{id}")).await.status(), 410);
    assert!(!a.get_html("/tags/release").await.text().await.unwrap().contains(&format!("/posts/{id}")));
    let response =
        a.client.patch(&item).header("Authorization", &bearer).json(&json!({ "text": "x" })).send().await.unwrap();
    assert_eq!(response.status(), 410);

    let scheduled =
        json!({ "actor": "acme", "text": "Later", "scheduled_at": (Utc::now() + Duration::hours(1)).to_rfc3339() });
    let response = post(Some(bearer.clone()), scheduled).await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Value>().await.unwrap()["state"], "scheduled");
}

/// A token's last use is recorded over HTTP, to the minute: a second request within the
/// minute writes nothing, one after it moves the time on.
#[tokio::test]
async fn a_tokens_last_use_is_recorded_to_the_minute() {
    use openhouse::db::entities::api_tokens;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};

    let a = TestApp::spawn().await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let (row, token) = tokens::create(&a.state.db, "dashboard", None).await.unwrap();
    assert_eq!(row.last_used_at, None);
    let last_used = || async {
        let (status, _) = a.api_get(token.expose(), "/api/v1/deliveries").await;
        assert_eq!(status, 200);
        api_tokens::Entity::find_by_id(row.id).one(&a.state.db).await.unwrap().unwrap().last_used_at
    };
    let first = last_used().await.expect("the first use is recorded");
    assert!(Utc::now() - first < Duration::seconds(30));
    assert_eq!(last_used().await, Some(first), "a use within the minute writes nothing");
    let earlier = (Utc::now() - Duration::minutes(2)).trunc_subsecs(0);
    api_tokens::ActiveModel { id: Set(row.id), last_used_at: Set(Some(earlier)), ..Default::default() }
        .update(&a.state.db)
        .await
        .unwrap();
    let moved = last_used().await.expect("still recorded");
    assert!(moved > earlier + Duration::minutes(1), "{moved} after {earlier}");
}
