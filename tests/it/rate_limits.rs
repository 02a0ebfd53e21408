//! I11: per-address and per-actor inbox rate limits answer 429 with `Retry-After`, before
//! anything is stored.

use openhouse::domain::ActorKind;
use url::Url;

use crate::{
    inbox::{Peer, stored},
    support::{TestApp, signing, two_instances_with},
};

/// A on 127.0.0.2 with the given limits; B on 127.0.0.3 is where the senders' keys live.
async fn instances(extra: &[(&str, &str)]) -> (TestApp, TestApp) {
    let (a, b) = two_instances_with(extra).await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    (a, b)
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_actor_over_its_rate_gets_429_and_nothing_is_stored() {
    // 1 per second sustained, so a burst of 10.
    let (a, b) = instances(&[("OPENHOUSE_INBOX_RATE_PER_ACTOR", "1"), ("OPENHOUSE_INBOX_RATE_PER_IP", "0")]).await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    b.create_actor("bob", ActorKind::Staff, "Bob").await;
    let ada = Peer::new(&b, "ada", &a, "acme").await;
    let bob = Peer::new(&b, "bob", &a, "acme").await;
    for i in 0..10 {
        assert_eq!(ada.send(&ada.follow(&format!("follows/{i}"), &a.actor_url("acme"))).await, 202, "request {i}");
    }
    assert_eq!(stored(&a).await, 10);
    let over = ada.follow("follows/over", &a.actor_url("acme"));
    assert_eq!(ada.send(&over).await, 429);
    assert_eq!(stored(&a).await, 10, "a limited request stores nothing");
    // Another actor on the same server is not affected.
    assert_eq!(bob.send(&bob.follow("follows/bob", &a.actor_url("acme"))).await, 202);
    assert_eq!(stored(&a).await, 11);
    // The answer says when to come back.
    let response = a
        .client
        .post(format!("{}/inbox", a.base))
        .header("content-type", "application/activity+json")
        .body(over.to_string())
        .send()
        .await
        .unwrap();
    // Unsigned: refused by the signature check before the actor is known (401, not 429).
    assert_eq!(response.status(), 401);
    let body = over.to_string().into_bytes();
    let response =
        signing::post_signed(&ada.client, &ada.key, &ada.inbox, &body, std::time::SystemTime::now(), |_, _| {}).await;
    assert_eq!(response.status(), 429);
    assert!((1..=2).contains(&retry_after(&response)), "{:?}", response.headers());
}

#[tokio::test]
async fn an_address_over_its_rate_gets_429_before_anything_is_parsed() {
    // No trusted proxies: every request counts against the TCP peer.
    let (a, b) = instances(&[
        ("OPENHOUSE_INBOX_RATE_PER_IP", "1"),
        ("OPENHOUSE_INBOX_RATE_PER_ACTOR", "0"),
        ("OPENHOUSE_TRUSTED_PROXIES", ""),
    ])
    .await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let ada = Peer::new(&b, "ada", &a, "acme").await;
    let shared = Url::parse(&format!("{}/inbox", a.base)).unwrap();
    // Ten requests of garbage spend the burst (each is refused on its own merits)…
    for i in 0..10 {
        let response = a.client.post(shared.clone()).body("not json").send().await.unwrap();
        assert_eq!(response.status(), 401, "request {i}");
    }
    // …so the eleventh, although perfectly signed, is turned away and stores nothing.
    assert_eq!(ada.send(&ada.follow("follows/1", &a.actor_url("acme"))).await, 429);
    assert_eq!(stored(&a).await, 0);
    let response = a.client.post(shared).body("not json").send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert!(retry_after(&response) >= 1);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    // The default trusts a proxy on loopback, which is where this test's requests come from.
    let (a, _b) = instances(&[("OPENHOUSE_INBOX_RATE_PER_IP", "1")]).await;
    let shared = format!("{}/inbox", a.base);
    let send = |client: &'static str| {
        a.client.post(&shared).header("x-forwarded-for", format!("1.2.3.4, {client}")).body("x").send()
    };
    for _ in 0..10 {
        assert_eq!(send("203.0.113.1").await.unwrap().status(), 401);
    }
    assert_eq!(send("203.0.113.1").await.unwrap().status(), 429);
    // A different client behind the same proxy is still welcome; the forged left part is ignored.
    assert_eq!(send("203.0.113.2").await.unwrap().status(), 401);
}

#[tokio::test]
async fn an_ipv6_client_is_counted_per_slash_64_not_per_address() {
    // The requests come through the (default, loopback) trusted proxy, which names the client.
    let (a, _b) = instances(&[("OPENHOUSE_INBOX_RATE_PER_IP", "1")]).await;
    let shared = format!("{}/inbox", a.base);
    let send = |client: String| a.client.post(&shared).header("x-forwarded-for", client).body("x").send();
    // Ten addresses of one /64 share one burst…
    for i in 0..10 {
        assert_eq!(send(format!("2001:db8:1:2::{i:x}")).await.unwrap().status(), 401, "request {i}");
    }
    // …so an eleventh address of the same /64 is turned away,
    assert_eq!(send("2001:db8:1:2:ffff:ffff:ffff:ffff".into()).await.unwrap().status(), 429);
    // while the next /64 and an IPv4 client have budgets of their own.
    assert_eq!(send("2001:db8:1:3::1".into()).await.unwrap().status(), 401);
    assert_eq!(send("203.0.113.1".into()).await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_ipv6_prefix_is_configurable() {
    let (a, _b) = instances(&[("OPENHOUSE_INBOX_RATE_PER_IP", "1"), ("OPENHOUSE_RATE_LIMIT_IPV6_PREFIX", "128")]).await;
    let shared = format!("{}/inbox", a.base);
    let send = |client: String| a.client.post(&shared).header("x-forwarded-for", client).body("x").send();
    for i in 0..10 {
        assert_eq!(send("2001:db8:1:2::1".into()).await.unwrap().status(), 401, "request {i}");
    }
    assert_eq!(send("2001:db8:1:2::1".into()).await.unwrap().status(), 429);
    // With /128 each address is its own client.
    assert_eq!(send("2001:db8:1:2::2".into()).await.unwrap().status(), 401);
}

#[tokio::test]
async fn a_personal_inbox_runs_the_cheap_checks_before_looking_up_its_account() {
    let (a, b) = instances(&[
        ("OPENHOUSE_INBOX_RATE_PER_IP", "1"),
        ("OPENHOUSE_INBOX_RATE_PER_ACTOR", "0"),
        ("OPENHOUSE_TRUSTED_PROXIES", ""),
    ])
    .await;
    b.create_actor("ada", ActorKind::Staff, "Ada").await;
    let nobody = format!("{}/users/nobody/inbox", a.base);
    let unsigned = || a.client.post(&nobody).header("content-type", "application/activity+json").body("{}").send();
    // Unsigned: the signature check answers (401), not the account lookup (404).
    assert_eq!(unsigned().await.unwrap().status(), 401);
    // A form is refused for its content type (415), as at the shared inbox.
    let form = a.client.post(&nobody).form(&[("a", "b")]).send().await.unwrap();
    assert_eq!(form.status(), 415);
    // Only a request that passes every cheap check learns that the account does not exist.
    let ada = Peer::new(&b, "ada", &a, "nobody").await;
    assert_eq!(ada.send(&ada.follow("follows/1", &a.actor_url("acme"))).await, 404);
    // The address has spent 3 of its burst of 10; 7 more, and then it is turned away with 429.
    for i in 0..7 {
        assert_eq!(unsigned().await.unwrap().status(), 401, "request {i}");
    }
    let over = unsigned().await.unwrap();
    assert_eq!(over.status(), 429);
    assert!(retry_after(&over) >= 1);
    assert_eq!(ada.send(&ada.follow("follows/2", &a.actor_url("acme"))).await, 429);
    assert_eq!(stored(&a).await, 0);
}
