//! Actor documents complete for Mastodon, their collections, and the same URL as a page.

use openhouse::domain::{ActorKind, ProfileField};
use serde_json::Value;

use crate::support::TestApp;

const LD_JSON: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

#[tokio::test]
async fn brand_actor_document_has_every_field_mastodon_reads() {
    let app = TestApp::spawn().await;
    let fields = vec![
        ProfileField::parse("Website=https://acme.example").unwrap(),
        ProfileField::parse("Support=Mon-Fri <9-5>").unwrap(),
    ];
    app.create_actor_with("acme", ActorKind::Brand, "Acme Inc.", "We make things.\n\nAsk us anything.", false, fields)
        .await;

    let res = app.get_actor("acme").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/activity+json");
    assert_eq!(res.headers()["vary"], "Accept");
    let a: Value = res.json().await.unwrap();
    let id = app.actor_url("acme");

    let context = a["@context"].as_array().unwrap();
    assert_eq!(context[0], "https://www.w3.org/ns/activitystreams");
    assert_eq!(context[1], "https://w3id.org/security/v1");
    for term in ["manuallyApprovesFollowers", "toot", "featured", "discoverable", "indexable", "PropertyValue", "value"]
    {
        assert!(context[2].get(term).is_some(), "context lacks {term}");
    }
    assert_eq!(a["id"], id.as_str(), "id equals the URL it is served from");
    assert_eq!(a["type"], "Organization");
    assert_eq!(a["preferredUsername"], "acme");
    assert_eq!(a["name"], "Acme Inc.");
    assert_eq!(a["summary"], "<p>We make things.</p><p>Ask us anything.</p>");
    assert_eq!(a["url"], format!("{}/@acme", app.base));
    assert_eq!(a["inbox"], format!("{id}/inbox"));
    assert_eq!(a["outbox"], format!("{id}/outbox"));
    assert_eq!(a["followers"], format!("{id}/followers"));
    assert_eq!(a["following"], format!("{id}/following"));
    assert_eq!(a["featured"], format!("{id}/featured"));
    assert_eq!(a["endpoints"]["sharedInbox"], format!("{}/inbox", app.base));
    assert_eq!(a["publicKey"]["id"], format!("{id}#main-key"));
    assert_eq!(a["publicKey"]["owner"], id.as_str());
    let pem = a["publicKey"]["publicKeyPem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.trim_end().ends_with("-----END PUBLIC KEY-----"));
    for image in ["icon", "image"] {
        assert_eq!(a[image]["type"], "Image");
        assert_eq!(a[image]["mediaType"], "image/png");
        let url = a[image]["url"].as_str().unwrap();
        let fetched = app.client.get(url).send().await.unwrap();
        assert_eq!(fetched.status(), 200, "{image} at {url}");
        assert_eq!(fetched.headers()["content-type"], "image/png");
        assert_eq!(fetched.headers()["x-content-type-options"], "nosniff");
    }
    let attachment = a["attachment"].as_array().unwrap();
    assert_eq!(attachment.len(), 2);
    assert_eq!(attachment[0]["type"], "PropertyValue");
    assert_eq!(attachment[0]["name"], "Website");
    let link = attachment[0]["value"].as_str().unwrap();
    assert!(link.starts_with("<a href=\"https://acme.example/\" rel=\"me"), "{link}");
    assert_eq!(attachment[1]["value"], "Mon-Fri &lt;9-5&gt;", "plain values are escaped");
    assert_eq!(a["manuallyApprovesFollowers"], false);
    assert_eq!(a["discoverable"], true);
    assert_eq!(a["indexable"], true);
    assert!(chrono::DateTime::parse_from_rfc3339(a["published"].as_str().unwrap()).is_ok());
    assert!(!a.to_string().contains("PRIVATE KEY"), "the private key never leaves the server");
}

#[tokio::test]
async fn staff_are_people_and_locked_accounts_say_so() {
    let app = TestApp::spawn().await;
    app.create_actor("ada", ActorKind::Staff, "Ada from Acme").await;
    app.create_actor_with("beta", ActorKind::Product, "Acme Beta", "", true, vec![]).await;

    let ada: Value = app.get_actor("ada").await.json().await.unwrap();
    assert_eq!(ada["type"], "Person");
    assert_eq!(ada["manuallyApprovesFollowers"], false);
    let beta: Value = app.get("/users/beta", LD_JSON).await.json().await.unwrap();
    assert_eq!(beta["type"], "Organization");
    assert_eq!(beta["manuallyApprovesFollowers"], true);
}

#[tokio::test]
async fn the_instance_actor_is_an_application_that_can_sign() {
    let app = TestApp::spawn().await;
    let res = app.get_activity_json("/actor").await;
    assert_eq!(res.status(), 200);
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["type"], "Application");
    assert_eq!(a["id"], format!("{}/actor", app.base));
    assert_eq!(a["preferredUsername"], "127.0.0.1");
    assert_eq!(a["publicKey"]["id"], format!("{}/actor#main-key", app.base));
    assert!(a["publicKey"]["publicKeyPem"].as_str().unwrap().contains("BEGIN PUBLIC KEY"));
    assert_eq!(a["discoverable"], false, "not listed in directories");
    // Browsers are sent to the front page.
    let page = app.get_html("/actor").await;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/");
}

#[tokio::test]
async fn the_actor_url_serves_browsers_the_profile_page() {
    let app = TestApp::spawn().await;
    app.create_actor_with("acme", ActorKind::Brand, "Acme", "Hello", false, vec![]).await;
    let res = app.get_html("/users/acme").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Acme</h1>"), "{html}");
    assert!(html.contains(&format!("@acme@{}", app.addr)));
    assert!(html.contains(&format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{}\">",
        app.actor_url("acme")
    )));

    // The short link does the same for browsers and sends peers to the id.
    assert_eq!(app.get_html("/@acme").await.status(), 200);
    let peer = app.get_activity_json("/@acme").await;
    assert_eq!(peer.status(), 308);
    assert_eq!(peer.headers()["location"], app.actor_url("acme").as_str());
}

#[tokio::test]
async fn unknown_accounts_are_404_in_json_and_in_html() {
    let app = TestApp::spawn().await;
    let json = app.get_actor("nobody").await;
    assert_eq!(json.status(), 404);
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["error"], "no such account");

    for path in ["/users/nobody", "/@nobody", "/users/NOBODY", "/no-such-page"] {
        let html = app.get_html(path).await;
        assert_eq!(html.status(), 404, "{path}");
        assert!(html.text().await.unwrap().contains("<h1>Not found</h1>"), "{path}");
    }
    // The instance actor is not an account page.
    assert_eq!(app.get_html("/users/127.0.0.1").await.status(), 404);
}

#[tokio::test]
async fn collections_are_paged_ordered_collections() {
    let app = TestApp::spawn().await;
    app.create_actor("acme", ActorKind::Brand, "Acme").await;
    let id = app.actor_url("acme");
    for name in ["outbox", "followers", "following", "featured"] {
        let res = app.get_activity_json(&format!("/users/acme/{name}")).await;
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(res.headers()["content-type"], "application/activity+json");
        let c: Value = res.json().await.unwrap();
        assert_eq!(c["id"], format!("{id}/{name}"));
        assert_eq!(c["type"], "OrderedCollection");
        assert_eq!(c["totalItems"], 0);
        let first = c["first"].as_str().unwrap();
        assert_eq!(first, format!("{id}/{name}?page=1"));

        let page: Value = app
            .client
            .get(first)
            .header("Accept", "application/activity+json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["type"], "OrderedCollectionPage");
        assert_eq!(page["id"], first);
        assert_eq!(page["partOf"], format!("{id}/{name}"));
        assert_eq!(page["orderedItems"], serde_json::json!([]));
        assert!(page.get("next").is_none());
    }
    assert_eq!(app.get_activity_json("/users/acme/likes").await.status(), 404);
    assert_eq!(app.get_activity_json("/users/nobody/outbox").await.status(), 404);
    assert_eq!(app.get_activity_json("/users/acme/outbox?page=0").await.status(), 400);
    assert_eq!(app.get_activity_json("/users/acme/outbox?page=x").await.status(), 400);
}
