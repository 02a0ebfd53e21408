//! Publishing between two Openhouse instances over real HTTP: A's brand publishes, B (whose
//! staff member follows the brand) receives `Create{Note}`, then `Update`, then `Delete`;
//! the Note and its page on A; scheduled posts; the JSON API with its tokens.

use chrono::{Duration, SubsecRound, Utc};
use openhouse::{
    db::{
        entities::{activities, actors, inbox_activities, outbox_events},
        queries,
    },
    domain::{ActorKind, Visibility},
    federation::{mentions::resolve_mentions, resolve},
    services::{
        follows,
        media::Upload,
        posts::{self, Draft},
        tokens,
    },
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::support::{TestApp, eventually, two_instances};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const PNG: &[u8] = include_bytes!("../../frontend/static/avatar.png");

/// A and B, with B's staff member Ada following A's brand (accepted).
async fn followed_brand() -> (TestApp, TestApp, actors::Model) {
    let (a, b) = two_instances().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let ada = b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let remote_brand = resolve::by_handle_or_url(&b.state.federation, &format!("acme@{}", a.addr)).await.unwrap();
    follows::follow_remote(&b.state.db, &b.state.urls, &ada, &remote_brand).await.unwrap();
    eventually(20, "A accepted B's follower", || async {
        (queries::follows::count_followers(&a.state.db, brand.id).await.unwrap() == 1).then_some(())
    })
    .await;
    (a, b, brand)
}

fn draft(text: &str) -> Draft {
    Draft {
        text: text.to_owned(),
        content_warning: None,
        visibility: Visibility::Public,
        scheduled_at: None,
        in_reply_to: None,
    }
}

async fn publish(app: &TestApp, author: &actors::Model, draft: Draft) -> openhouse::db::entities::posts::Model {
    let mentions = resolve_mentions(&app.state.federation, &draft.text).await.unwrap();
    let media_dir = app.state.config.data_dir.join("media");
    posts::publish(&app.state.db, &app.state.urls, &media_dir, author, draft, &mentions, Vec::new()).await.unwrap()
}

/// The activity of `kind` about `object_id` that B's inbox stored, with when it arrived.
/// B drops the payload once processed (I12), so the body is read from what A sent under
/// the same id.
async fn received(b: &TestApp, a: &TestApp, kind: &str, object_id: &str) -> Option<(Value, chrono::DateTime<Utc>)> {
    let rows = inbox_activities::Entity::find()
        .filter(inbox_activities::Column::ActivityType.eq(kind))
        .all(&b.state.db)
        .await
        .unwrap();
    for row in rows {
        let sent = activities::Entity::find()
            .filter(activities::Column::ApId.eq(row.ap_id.as_str()))
            .one(&a.state.db)
            .await
            .unwrap()?;
        let json: Value = serde_json::from_str(&sent.payload).unwrap();
        if json["object"]["id"] == object_id {
            return Some((json, row.received_at));
        }
    }
    None
}

#[tokio::test]
async fn a_post_reaches_followers_as_create_then_update_then_delete() {
    let (a, b, brand) = followed_brand().await;
    let handle = format!("ada@{}", b.addr);
    let text = format!("Hello **fediverse** #Launch @{handle} <script>alert(1)</script>");
    let post = publish(&a, &brand, draft(&text)).await;
    assert_eq!(post.ap_id, format!("{}/users/acme/posts/{}", a.base, post.id));

    let remote_ada = queries::actors::find_by_ap_id(&a.state.db, &b.actor_url("ada")).await.unwrap().unwrap();
    let profile = remote_ada.profile_url.clone().unwrap();
    let expected_html = format!(
        "<p>Hello <strong>fediverse</strong> <a href=\"{a}/tags/launch\" class=\"mention hashtag\" \
         rel=\"nofollow noopener noreferrer\">#Launch</a> <span class=\"h-card\"><a href=\"{profile}\" \
         class=\"u-url mention\" rel=\"nofollow noopener noreferrer\">@{handle}</a></span> \
         &lt;script&gt;alert(1)&lt;/script&gt;</p>",
        a = a.base
    );
    assert_eq!(post.content_html, expected_html);

    let (create, _) = eventually(20, "B received the Create", || received(&b, &a, "Create", &post.ap_id)).await;
    assert_eq!(create["id"], format!("{}/activity", post.ap_id));
    assert_eq!(create["actor"], a.actor_url("acme"));
    let note = &create["object"];
    assert_eq!(note["type"], "Note");
    assert_eq!(note["id"], post.ap_id);
    assert_eq!(note["url"], post.ap_id);
    assert_eq!(note["attributedTo"], a.actor_url("acme"));
    assert_eq!(note["content"], expected_html);
    assert_eq!(note["to"], json!([PUBLIC]));
    assert_eq!(note["cc"], json!([format!("{}/followers", a.actor_url("acme")), b.actor_url("ada")]));
    assert_eq!(create["to"], note["to"]);
    assert_eq!(create["cc"], note["cc"]);
    assert_eq!(
        note["tag"],
        json!([
            { "type": "Mention", "href": b.actor_url("ada"), "name": format!("@{handle}") },
            { "type": "Hashtag", "href": format!("{}/tags/launch", a.base), "name": "#launch" },
        ])
    );
    assert_eq!(note["sensitive"], false);
    assert!(note.get("updated").is_none());
    assert_eq!(note["replies"], format!("{}/replies", post.ap_id));

    // One delivery: Ada is both the follower and the mentioned actor, behind one shared inbox.
    let creates = inbox_activities::Entity::find()
        .filter(inbox_activities::Column::ActivityType.eq("Create"))
        .all(&b.state.db)
        .await
        .unwrap();
    assert_eq!(creates.len(), 1);

    posts::edit(&a.state.db, &a.state.urls, &brand, post.id, "Hello *again*", None, &[]).await.unwrap();
    let (update, _) = eventually(20, "B received the Update", || received(&b, &a, "Update", &post.ap_id)).await;
    assert_eq!(update["actor"], a.actor_url("acme"));
    assert_eq!(update["object"]["content"], "<p>Hello <em>again</em></p>");
    assert!(update["object"]["updated"].is_string(), "{update}");
    assert_eq!(update["object"]["published"], note["published"]);

    posts::delete(&a.state.db, &brand, post.id).await.unwrap();
    let (delete, _) = eventually(20, "B received the Delete", || received(&b, &a, "Delete", &post.ap_id)).await;
    assert_eq!(delete["actor"], a.actor_url("acme"));
    assert_eq!(delete["object"]["type"], "Tombstone");
    assert_eq!(delete["to"], json!([PUBLIC]));

    let path = post.ap_id.strip_prefix(&a.base).unwrap();
    let gone = a.get_activity_json(path).await;
    assert_eq!(gone.status(), 410);
    let tombstone: Value = gone.json().await.unwrap();
    assert_eq!(tombstone["type"], "Tombstone");
    assert_eq!(tombstone["id"], post.ap_id);
    let page = a.get_html(path).await;
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("deleted"));
    // Editing or deleting again is refused with 410.
    let again = posts::delete(&a.state.db, &brand, post.id).await.unwrap_err();
    assert_eq!(again.status().as_u16(), 410);
}

#[tokio::test]
async fn the_note_its_page_its_images_and_the_outbox_render() {
    let a = TestApp::spawn().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme <Inc>").await;
    let release = Draft {
        text: "Release **2.0** <img src=x onerror=alert(1)> [x](javascript:alert(2))".into(),
        content_warning: Some("Spoilers <b>".into()),
        visibility: Visibility::Public,
        scheduled_at: None,
        in_reply_to: None,
    };
    let upload = Upload { bytes: PNG.to_vec(), alt: "A \"chart\" <going up>".into() };
    let media_dir = a.state.config.data_dir.join("media");
    let post =
        posts::publish(&a.state.db, &a.state.urls, &media_dir, &brand, release, &[], vec![upload]).await.unwrap();
    let path = post.ap_id.strip_prefix(&a.base).unwrap().to_owned();

    let response = a.get_activity_json(&path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/activity+json");
    let note: Value = response.json().await.unwrap();
    assert_eq!(note["id"], post.ap_id);
    assert_eq!(note["type"], "Note");
    assert_eq!(note["summary"], "Spoilers <b>");
    assert_eq!(note["sensitive"], true);
    assert!(note["@context"].is_array());
    let content = note["content"].as_str().unwrap();
    assert!(!content.contains("<img") && !content.contains("javascript:"), "{content}");
    let image = &note["attachment"][0];
    assert_eq!(image["type"], "Image");
    assert_eq!(image["mediaType"], "image/png");
    assert_eq!(image["name"], "A \"chart\" <going up>");
    let image_url = image["url"].as_str().unwrap().to_owned();

    let media = a.client.get(&image_url).send().await.unwrap();
    assert_eq!(media.status(), 200);
    assert_eq!(media.headers()["content-type"], "image/png");
    assert_eq!(media.headers()["x-content-type-options"], "nosniff");
    assert!(media.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
    assert_eq!(media.bytes().await.unwrap().as_ref(), PNG);
    for bad in ["/media/..%2Fopenhouse.sqlite", "/media/nothing.png", "/media/x.svg"] {
        assert_eq!(a.get_html(bad).await.status(), 404, "{bad}");
    }

    let page = a.get_html(&path).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = page.text().await.unwrap();
    // askama escapes with numeric entities; our Markdown renderer with named ones.
    assert!(html.contains("<summary>Spoilers &#60;b&#62;</summary>"), "{html}");
    assert!(html.contains("Acme &#60;Inc&#62;"), "{html}");
    assert!(html.contains("<strong>2.0</strong> &lt;img src=x onerror=alert(1)&gt;"), "{html}");
    assert!(html.contains("alt=\"A &#34;chart&#34; &#60;going up&#62;\""), "{html}");
    assert!(!html.contains("<script") && !html.contains("<img src=x") && !html.contains("style="), "{html}");
    assert!(!html.contains("javascript:"), "{html}");

    let create: Value = a.get_activity_json(&format!("{path}/activity")).await.json().await.unwrap();
    assert_eq!(create["type"], "Create");
    assert_eq!(create["object"]["id"], post.ap_id);

    // Private and missing posts answer the same 404.
    let private = Draft { visibility: Visibility::Followers, ..draft("Only for followers") };
    let private = posts::publish(&a.state.db, &a.state.urls, &media_dir, &brand, private, &[], vec![]).await.unwrap();
    let private_path = private.ap_id.strip_prefix(&a.base).unwrap().to_owned();
    let (p, m) = (a.get_activity_json(&private_path).await, a.get_activity_json("/users/acme/posts/9999").await);
    assert_eq!((p.status().as_u16(), m.status().as_u16()), (404, 404));
    assert_eq!(p.text().await.unwrap(), m.text().await.unwrap());
    assert_eq!(a.get_html(&private_path).await.status(), 404);
    assert_eq!(a.get_activity_json("/users/other/posts/1").await.status(), 404);
    assert_eq!(a.get_activity_json("/users/acme/posts/abc").await.status(), 404);

    // The outbox lists what anyone may read, newest first, as Create activities.
    let outbox: Value = a.get_activity_json("/users/acme/outbox").await.json().await.unwrap();
    assert_eq!(outbox["totalItems"], 1);
    let page: Value = a.get_activity_json("/users/acme/outbox?page=1").await.json().await.unwrap();
    assert_eq!(page["orderedItems"][0]["type"], "Create");
    assert_eq!(page["orderedItems"][0]["object"]["id"], post.ap_id);
    assert_eq!(page["orderedItems"].as_array().unwrap().len(), 1);
    let nodeinfo: Value = a.get("/nodeinfo/2.1", "application/json").await.json().await.unwrap();
    assert_eq!(nodeinfo["usage"]["localPosts"], 2);
}

#[tokio::test]
async fn a_scheduled_post_goes_out_when_due_and_not_before() {
    let (a, b, brand) = followed_brand().await;
    // Whole seconds: every database stores them exactly.
    let at = (Utc::now() + Duration::seconds(3)).trunc_subsecs(0);
    let post = publish(&a, &brand, Draft { scheduled_at: Some(at), ..draft("Launching at noon") }).await;
    assert!(post.published_at.is_none());
    assert_eq!(post.scheduled_at, Some(at));
    let path = post.ap_id.strip_prefix(&a.base).unwrap().to_owned();
    assert_eq!(a.get_activity_json(&path).await.status(), 404, "not visible before its time");
    let events = outbox_events::Entity::find()
        .filter(outbox_events::Column::Kind.eq("post_published"))
        .all(&a.state.db)
        .await
        .unwrap();
    assert!(events.is_empty(), "nothing recorded before its time");

    let (create, arrived) =
        eventually(20, "B received the scheduled post", || received(&b, &a, "Create", &post.ap_id)).await;
    assert!(arrived >= at, "arrived at {arrived}, scheduled for {at}");
    assert_eq!(create["object"]["content"], "<p>Launching at noon</p>");
    assert_eq!(a.get_activity_json(&path).await.status(), 200);
    // Released once, whoever runs the scheduler again.
    assert_eq!(posts::release_due(&a.state.db).await.unwrap(), 0);
    let events = outbox_events::Entity::find()
        .filter(outbox_events::Column::Kind.eq("post_published"))
        .all(&a.state.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn invalid_posts_are_refused_with_a_reason() {
    let a = TestApp::spawn().await;
    let brand = a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let dir = a.state.config.data_dir.join("media");
    let publish = |draft: Draft, uploads: Vec<Upload>| {
        let (a, brand, dir) = (&a, &brand, &dir);
        async move { posts::publish(&a.state.db, &a.state.urls, dir, brand, draft, &[], uploads).await.unwrap_err() }
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
    let post = posts::publish(&a.state.db, &a.state.urls, &dir, &brand, draft("mine"), &[], vec![]).await.unwrap();
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

#[tokio::test]
async fn delivery_progress_is_visible_per_post_and_per_host() {
    let (a, b, brand) = followed_brand().await;
    let post = publish(&a, &brand, draft("Delivery report, please.")).await;
    eventually(20, "B received the Create", || received(&b, &a, "Create", &post.ap_id)).await;
    let (_, token) = tokens::create(&a.state.db, "ops", None).await.unwrap();
    let token = token.expose().to_owned();
    let report: Value = eventually(20, "the delivery recorded as delivered", || async {
        let res = a
            .client
            .get(format!("{}/api/v1/posts/{}/deliveries", a.base, post.id))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let report: Value = res.json().await.unwrap();
        (report["activities"][0]["delivered"] == 1).then_some(report)
    })
    .await;
    let create = &report["activities"][0];
    assert_eq!(create["type"], "Create");
    assert_eq!((create["pending"].as_u64(), create["failed"].as_u64()), (Some(0), Some(0)));
    assert_eq!(create["hosts"][0]["host"], b.addr.to_string());
    assert_eq!(create["hosts"][0]["delivered"], 1);

    let queue: Value = a
        .client
        .get(format!("{}/api/v1/deliveries", a.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(queue["delivered"].as_u64().unwrap() >= 2, "the Accept and the Create: {queue}");
    assert_eq!(queue["pending"], 0);
    assert_eq!(queue["failing_hosts"], json!([]));
    let unauthorized = a.client.get(format!("{}/api/v1/deliveries", a.base)).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
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
        let status = a
            .client
            .get(format!("{}/api/v1/deliveries", a.base))
            .header("Authorization", format!("Bearer {}", token.expose()))
            .send()
            .await
            .unwrap()
            .status();
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
