//! Remote follow between two instances on different loopback addresses: the visitor types
//! their handle on A's profile page and is sent to their own server, B, to confirm.

use openhouse::domain::ActorKind;

use crate::support::{Options, TestApp};

/// The text of the page's error message.
fn alert(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("p.error").unwrap();
    doc.select(&selector).map(|p| p.text().collect::<String>()).collect()
}

/// What a visitor is told about any failed lookup on `brand`'s `acme` profile.
fn plain_failure(brand: &TestApp) -> String {
    format!(
        "We could not find that account. Check the address, or search for @acme@{} in your app instead.",
        brand.addr
    )
}

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
    assert_eq!(alert(&html), plain_failure(&brand));
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
    assert_eq!(alert(&unknown.text().await.unwrap()), plain_failure(&brand));

    let missing = brand
        .client
        .post(format!("{}/users/nobody/remote-follow", brand.base))
        .form(&[("account", "a@b.c")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_failed_lookup_tells_the_visitor_nothing_about_hosts_ports_or_errors() {
    // A scanner's view: an allow-listed host with a web server (unknown account), a closed
    // port on it, a private host we refuse, a name that does not resolve. One answer for all.
    let home = TestApp::spawn_with(Options { ip: Some("127.0.0.3"), ..Default::default() }).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.3:0").unwrap();
        listener.local_addr().unwrap()
    };
    let brand = TestApp::spawn_with(Options {
        ip: Some("127.0.0.2"),
        allow_private_fetch: Some("127.0.0.3:*".to_owned()),
        ..Default::default()
    })
    .await;
    brand.create_actor("acme", ActorKind::Brand, "Acme").await;
    let mut answers = Vec::new();
    for account in [
        format!("nobody@{}", home.addr),
        format!("nobody@{closed}"),
        "nobody@10.0.0.1:22".to_owned(),
        "nobody@does-not-exist.invalid".to_owned(),
    ] {
        let res = brand
            .client
            .post(format!("{}/users/acme/remote-follow", brand.base))
            .form(&[("account", &account)])
            .send()
            .await
            .unwrap();
        answers.push((res.status().as_u16(), alert(&res.text().await.unwrap())));
    }
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(*answer, (502, plain_failure(&brand)), "answer {i}");
    }
}

#[tokio::test]
async fn lookups_are_limited_per_client_address() {
    // The default trusts a proxy on loopback, where the test's requests come from.
    let brand = TestApp::spawn_with_env(
        Options { ip: Some("127.0.0.2"), ..Default::default() },
        &[("OPENHOUSE_REMOTE_FOLLOW_PER_MINUTE", "2")],
    )
    .await;
    brand.create_actor("acme", ActorKind::Brand, "Acme").await;
    let post = |client: &'static str| {
        brand
            .client
            .post(format!("{}/users/acme/remote-follow", brand.base))
            .header("x-forwarded-for", client)
            .form(&[("account", "nobody@does-not-exist.invalid")])
            .send()
    };
    for i in 0..2 {
        assert_eq!(post("203.0.113.1").await.unwrap().status(), 502, "lookup {i}");
    }
    let over = post("203.0.113.1").await.unwrap();
    assert_eq!(over.status(), 429);
    let wait: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(over.text().await.unwrap().contains("Too many remote-follow lookups"));
    // Another client, and another address of the same IPv6 /64 counts as the same client.
    assert_eq!(post("203.0.113.2").await.unwrap().status(), 502);
    assert_eq!(post("2001:db8::1").await.unwrap().status(), 502);
    assert_eq!(post("2001:db8::2").await.unwrap().status(), 502);
    assert_eq!(post("2001:db8::3").await.unwrap().status(), 429);
}
