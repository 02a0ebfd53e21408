//! WebFinger, host-meta and NodeInfo, as Mastodon uses them (FEDERATION.md §1).

use openhouse::domain::ActorKind;
use serde_json::Value;

use crate::support::TestApp;

#[tokio::test]
async fn webfinger_finds_a_brand_by_acct_with_every_link_mastodon_needs() {
    let app = TestApp::spawn().await;
    app.create_actor("acme", ActorKind::Brand, "Acme").await;

    let resource = format!("acct:acme@{}", app.addr);
    let res = app.get(&format!("/.well-known/webfinger?resource={resource}"), "application/jrd+json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/jrd+json");
    let jrd: Value = res.json().await.unwrap();

    let actor_url = app.actor_url("acme");
    assert_eq!(jrd["subject"], resource);
    let aliases: Vec<&str> = jrd["aliases"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(aliases.contains(&actor_url.as_str()), "{aliases:?}");
    assert!(aliases.contains(&format!("{}/@acme", app.base).as_str()), "{aliases:?}");
    let links = jrd["links"].as_array().unwrap();
    let link = |rel: &str| links.iter().find(|l| l["rel"] == rel).unwrap_or_else(|| panic!("no {rel} link in {jrd}"));
    assert_eq!(link("self")["type"], "application/activity+json");
    assert_eq!(link("self")["href"], actor_url.as_str());
    assert_eq!(link("http://webfinger.net/rel/profile-page")["type"], "text/html");
    assert_eq!(link("http://webfinger.net/rel/profile-page")["href"], format!("{}/@acme", app.base));
    let template = link("http://ostatus.org/schema/1.0/subscribe")["template"].as_str().unwrap();
    assert_eq!(template, format!("{}/authorize_interaction?uri={{uri}}", app.base));
}

#[tokio::test]
async fn webfinger_round_trips_from_the_actor_document_as_mastodon_checks() {
    let app = TestApp::spawn().await;
    app.create_actor("widget", ActorKind::Product, "Widget").await;
    // Mastodon fetches the actor, then WebFingers preferredUsername@host and expects the same id.
    let actor: Value = app.get_actor("widget").await.json().await.unwrap();
    let username = actor["preferredUsername"].as_str().unwrap();
    let host = url::Url::parse(actor["id"].as_str().unwrap()).unwrap();
    let domain = format!("{}:{}", host.host_str().unwrap(), host.port().unwrap());
    let jrd: Value = app
        .get(&format!("/.well-known/webfinger?resource=acct:{username}@{domain}"), "application/jrd+json")
        .await
        .json()
        .await
        .unwrap();
    let self_link = jrd["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap();
    assert_eq!(self_link["href"], actor["id"]);
}

#[tokio::test]
async fn webfinger_accepts_actor_urls_and_is_case_insensitive() {
    let app = TestApp::spawn().await;
    app.create_actor("acme", ActorKind::Brand, "Acme").await;
    for resource in [
        app.actor_url("acme"),
        format!("{}/@acme", app.base),
        format!("acct:ACME@{}", app.addr),
        format!("@acme@{}", app.addr),
    ] {
        let res = app.get(&format!("/.well-known/webfinger?resource={}", urlencode(&resource)), "*/*").await;
        assert_eq!(res.status(), 200, "{resource}");
        let jrd: Value = res.json().await.unwrap();
        assert_eq!(jrd["subject"], format!("acct:acme@{}", app.addr), "{resource}");
    }
}

#[tokio::test]
async fn webfinger_finds_the_instance_actor_like_mastodon_names_it() {
    let app = TestApp::spawn().await;
    let res = app.get(&format!("/.well-known/webfinger?resource=acct:127.0.0.1@{}", app.addr), "*/*").await;
    assert_eq!(res.status(), 200);
    let jrd: Value = res.json().await.unwrap();
    let self_link = jrd["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap();
    assert_eq!(self_link["href"], format!("{}/actor", app.base));
}

#[tokio::test]
async fn webfinger_bad_requests_get_clear_answers() {
    let app = TestApp::spawn().await;
    app.create_actor("acme", ActorKind::Brand, "Acme").await;
    let cases = [
        ("/.well-known/webfinger", 400),
        ("/.well-known/webfinger?resource=", 400),
        ("/.well-known/webfinger?resource=acme", 400),
        ("/.well-known/webfinger?resource=acct:acme", 400),
        ("/.well-known/webfinger?resource=acct:%40x", 400),
        ("/.well-known/webfinger?resource=http%3A%2F%2F%5B", 400),
        ("/.well-known/webfinger?resource=acct:nobody@{domain}", 404),
        ("/.well-known/webfinger?resource=acct:acme@elsewhere.example", 404),
        ("/.well-known/webfinger?resource=https%3A%2F%2Felsewhere.example%2Fusers%2Facme", 404),
        ("/.well-known/webfinger?resource={base}/users/nobody", 404),
    ];
    for (path, status) in cases {
        let path = path.replace("{domain}", &app.addr.to_string()).replace("{base}", &app.base);
        let res = app.get(&path, "application/jrd+json").await;
        assert_eq!(res.status(), status, "{path}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {body}");
    }
}

#[tokio::test]
async fn host_meta_points_at_webfinger() {
    let app = TestApp::spawn().await;
    let res = app.get("/.well-known/host-meta", "*/*").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/xrd+xml"));
    let body = res.text().await.unwrap();
    assert!(body.contains("<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">"), "{body}");
    assert!(
        body.contains(&format!("rel=\"lrdd\" template=\"{}/.well-known/webfinger?resource={{uri}}\"", app.base)),
        "{body}"
    );
}

#[tokio::test]
async fn nodeinfo_links_to_a_2_1_document_with_usage_counts() {
    let app = TestApp::spawn().await;
    let links: Value = app.get("/.well-known/nodeinfo", "*/*").await.json().await.unwrap();
    let link = &links["links"][0];
    assert_eq!(link["rel"], "http://nodeinfo.diaspora.software/ns/schema/2.1");
    assert_eq!(link["href"], format!("{}/nodeinfo/2.1", app.base));

    let empty: Value = app.get("/nodeinfo/2.1", "*/*").await.json().await.unwrap();
    assert_eq!(empty["usage"]["users"]["total"], 0, "the instance actor is not an account");

    app.create_actor("acme", ActorKind::Brand, "Acme").await;
    app.create_actor("widget", ActorKind::Product, "Widget").await;
    let res = app.get("/nodeinfo/2.1", "*/*").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().contains("nodeinfo.diaspora.software/ns/schema/2.1"));
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "openhouse");
    assert_eq!(info["software"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["protocols"], serde_json::json!(["activitypub"]));
    assert_eq!(info["openRegistrations"], false);
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert_eq!(info["usage"]["localPosts"], 0);
    assert!(info["services"]["inbound"].is_array() && info["services"]["outbound"].is_array());
    assert_eq!(info["metadata"]["nodeName"], "Openhouse");
}

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
