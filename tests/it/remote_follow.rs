//! Remote follow between two instances on different loopback addresses: the visitor types
//! their handle on A's profile page and is sent to their own server, B, to confirm.

use openhouse::domain::ActorKind;

use crate::helpers::{Options, TestApp};

#[tokio::test]
async fn a_visitor_is_sent_to_their_own_server_to_confirm() {
    let home = TestApp::spawn_with(Options { ip: Some("127.0.0.3"), ..Default::default() }).await;
    home.create_actor("ada", ActorKind::Staff, "Ada").await;
    let brand = TestApp::spawn_with(Options {
        ip: Some("127.0.0.2"),
        allow_private_fetch: Some(format!("{}", home.addr)),
        ..Default::default()
    })
    .await;
    brand.create_actor("acme", ActorKind::Brand, "Acme").await;

    let res = brand
        .client
        .post(format!("{}/users/acme/remote-follow", brand.base))
        .form(&[("account", format!("@ada@{}", home.addr))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let encoded_id = crate::discovery::urlencode(&brand.actor_url("acme"));
    let expected = format!("href=\"{}/authorize_interaction?uri={}\"", home.base, encoded_id);
    assert!(html.contains(&expected), "expected {expected} in {html}");

    // The link lands on B's interaction page, naming what to follow.
    let landing = home.get_html(&format!("/authorize_interaction?uri={encoded_id}")).await;
    assert_eq!(landing.status(), 200);
    assert!(landing.text().await.unwrap().contains(&brand.actor_url("acme")));
}

#[tokio::test]
async fn remote_follow_refuses_private_servers_that_are_not_allow_listed() {
    let home = TestApp::spawn_with(Options { ip: Some("127.0.0.3"), ..Default::default() }).await;
    home.create_actor("ada", ActorKind::Staff, "Ada").await;
    let brand = TestApp::spawn_with(Options { ip: Some("127.0.0.2"), ..Default::default() }).await;
    brand.create_actor("acme", ActorKind::Brand, "Acme").await;

    let res = brand
        .client
        .post(format!("{}/users/acme/remote-follow", brand.base))
        .form(&[("account", format!("ada@{}", home.addr))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let html = res.text().await.unwrap();
    assert!(html.contains("We could not look up"), "{html}");
    assert!(html.contains("refused to fetch"), "{html}");
}

#[tokio::test]
async fn remote_follow_explains_bad_handles_and_unknown_accounts() {
    let home = TestApp::spawn_with(Options { ip: Some("127.0.0.3"), ..Default::default() }).await;
    let brand = TestApp::spawn_with(Options {
        ip: Some("127.0.0.2"),
        allow_private_fetch: Some(home.addr.to_string()),
        ..Default::default()
    })
    .await;
    brand.create_actor("acme", ActorKind::Brand, "Acme").await;
    let post = |account: String| {
        brand.client.post(format!("{}/users/acme/remote-follow", brand.base)).form(&[("account", account)]).send()
    };

    let bad = post("not a handle".into()).await.unwrap();
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("you@your.server"), "{html}");
    assert!(html.contains("value=\"not a handle\""), "the form keeps the input");

    let unknown = post(format!("nobody@{}", home.addr)).await.unwrap();
    assert_eq!(unknown.status(), 502);
    assert!(unknown.text().await.unwrap().contains("404"));

    let missing = brand
        .client
        .post(format!("{}/users/nobody/remote-follow", brand.base))
        .form(&[("account", "a@b.c")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
