//! A post reaches the brand's followers on another instance as `Create`, `Update` and
//! `Delete`; a scheduled post goes out when due; delivery progress is visible.

use chrono::{Duration, SubsecRound, Utc};
use openhouse::{
    db::{
        entities::{inbox_activities, outbox_events},
        queries,
    },
    services::{
        posts::{self, Draft},
        tokens,
    },
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::support::eventually;

use super::{PUBLIC, draft, followed_brand, publish};
use crate::support::wait::received;

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
