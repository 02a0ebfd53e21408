//! What a post looks like to peers and people: the Note, its page, its images, the outbox.

use openhouse::{
    domain::{ActorKind, Visibility},
    services::{
        media::Upload,
        posts::{self, Draft},
    },
};
use serde_json::Value;

use crate::support::TestApp;

use super::{PNG, draft};

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
        mentioned: Vec::new(),
        uploads: Vec::new(),
    };
    let upload = Upload { bytes: PNG.to_vec(), alt: "A \"chart\" <going up>".into() };
    let media_dir = a.state.config.data_dir.join("media");
    let post =
        posts::publish(&a.state.db, &a.state.urls, &media_dir, &brand, Draft { uploads: vec![upload], ..release })
            .await
            .unwrap();
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
    let private = posts::publish(&a.state.db, &a.state.urls, &media_dir, &brand, private).await.unwrap();
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
