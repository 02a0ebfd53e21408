//! Server-side request forgery through the inbox: an activity's actor is fetched to check
//! its signature, so its URL must never lead A to loopback, private, mapped-IPv6, `0.0.0.0`
//! or link-local addresses, directly or by redirect (F1, F3); and documents that are not
//! the actor they claim to be, or not ActivityPub at all, are refused (F2, F4, I8).

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use openhouse::domain::ActorKind;
use serde_json::json;
use tokio::net::TcpListener;
use url::Url;

use super::{Suite, with};
use crate::support::{
    Options,
    fake_remote::{Doc, FakeActor, instance_with_fakes},
};

/// A TCP listener that only counts connections: an address the instance must never reach.
struct Canary {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Canary {
    async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Self { port, connections }
    }

    fn reached(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn actor_urls_on_special_addresses_redirects_and_bad_documents_are_never_fetched_or_stored() {
    let (a, fake1, _fake2) = instance_with_fakes(Options::default()).await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let acme = a.actor_url("acme");
    let canary = Canary::start().await;
    let port = canary.port;
    let mut s = Suite::new(&a).await;

    for (name, url) in [
        ("actor on loopback", format!("https://127.0.0.1:{port}/users/x")),
        ("actor on loopback over plain http", format!("http://127.0.0.1:{port}/users/x")),
        ("actor on IPv4-mapped IPv6 loopback", format!("https://[::ffff:127.0.0.1]:{port}/users/x")),
        ("actor on IPv4-compatible IPv6 loopback", format!("https://[::127.0.0.1]:{port}/users/x")),
        ("actor on 0.0.0.0", format!("https://0.0.0.0:{port}/users/x")),
        ("actor on loopback spelled as one decimal number", format!("https://2130706433:{port}/users/x")),
        ("actor on loopback spelled in hex and short form", format!("https://0x7f.1:{port}/users/x")),
        ("actor on localhost", format!("https://localhost:{port}/users/x")),
        ("actor on IPv6 loopback", format!("https://[::1]:{port}/users/x")),
        ("actor on a private address", "https://10.0.0.1/users/x".to_owned()),
        ("actor on link-local (cloud metadata)", "https://169.254.169.254/users/x".to_owned()),
        ("actor on CGNAT", "https://100.64.0.1/users/x".to_owned()),
        ("actor on NAT64 of loopback", format!("https://[64:ff9b::7f00:1]:{port}/users/x")),
    ] {
        // An actor whose id is `url`: A must fetch it to check the signature, and must refuse to.
        let actor = FakeActor::at(&url);
        s.refused(name, 401, actor.send(&a, &actor.activity("Follow", json!(acme))).await).await;
    }

    // Redirects from an allowed host to forbidden ones are checked at every hop (F1, F3).
    let fake_port = fake1.port();
    for (i, (name, target)) in [
        ("redirect to loopback", format!("http://127.0.0.1:{port}/users/x")),
        ("redirect to IPv4-mapped loopback", format!("http://[::ffff:127.0.0.1]:{port}/users/x")),
        ("redirect to 0.0.0.0", format!("http://0.0.0.0:{port}/users/x")),
        ("redirect to localhost", format!("http://localhost:{port}/users/x")),
        ("redirect to a private address", "http://192.168.1.1/users/x".to_owned()),
        (
            "redirect to the mapped spelling of an allowed address",
            format!("http://[::ffff:127.0.0.4]:{fake_port}/users/mapped"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let actor = fake1.actor(&format!("hop{i}"));
        fake1.put(&actor.id, Doc::Redirect(target));
        s.refused(name, 401, actor.send(&a, &actor.activity("Follow", json!(acme))).await).await;
    }
    assert_eq!(fake1.hits_of("/users/mapped"), 0, "the mapped spelling was not fetched");
    // Two redirects between allowed hosts: more than F3 allows for objects.
    let twice = fake1.actor("twice");
    let hop = fake1.actor("twice-hop");
    let end = fake1.actor("twice-end");
    fake1.put(&twice.id, Doc::Redirect(hop.id.clone()));
    fake1.put(&hop.id, Doc::Redirect(end.id.clone()));
    s.refused("two redirects", 401, twice.send(&a, &twice.activity("Follow", json!(acme))).await).await;
    assert_eq!(fake1.hits_of(Url::parse(&end.id).unwrap().path()), 0);

    // Bad documents (F2, F4, I8).
    let mallory = fake1.actor("mallory");
    let other = fake1.actor("someone-else");
    fake1.put(&mallory.id, Doc::Json(with(mallory.doc.clone(), "id", json!(other.id))));
    s.refused(
        "a document whose id differs from its URL",
        401,
        mallory.send(&a, &mallory.activity("Follow", json!(acme))).await,
    )
    .await;
    let bad_documents = |actor: &FakeActor| {
        let big = with(actor.doc.clone(), "padding", json!("x".repeat(1024 * 1024 + 10)));
        [
            ("actor served as text/html", Doc::Raw("text/html", actor.doc.to_string())),
            ("actor served as plain application/json", Doc::Raw("application/json", actor.doc.to_string())),
            ("actor document over 1 MiB", Doc::Raw("application/activity+json", big.to_string())),
            ("actor document that is not JSON", Doc::Raw("application/activity+json", "<html>".into())),
        ]
    };
    for i in 0..4 {
        let actor = fake1.actor(&format!("bad-doc{i}"));
        let (name, doc) = bad_documents(&actor).into_iter().nth(i).unwrap();
        fake1.put(&actor.id, doc);
        s.refused(name, 401, actor.send(&a, &actor.activity("Follow", json!(acme))).await).await;
    }
    let key_thief = fake1.actor("key-thief");
    let mut doc = key_thief.doc.clone();
    doc["publicKey"]["owner"] = json!(other.id);
    fake1.put(&key_thief.id, Doc::Json(doc));
    s.refused(
        "a key owned by another actor",
        401,
        key_thief.send(&a, &key_thief.activity("Follow", json!(acme))).await,
    )
    .await;
    let elsewhere = fake1.actor("inbox-elsewhere");
    fake1.put(&elsewhere.id, Doc::Json(with(elsewhere.doc.clone(), "inbox", json!("https://evil.example/inbox"))));
    s.refused(
        "an actor whose inbox is on another host",
        401,
        elsewhere.send(&a, &elsewhere.activity("Follow", json!(acme))).await,
    )
    .await;

    assert_eq!(canary.reached(), 0, "no forbidden address was ever connected to");
    let cases = s.finish(20);
    println!("{cases} fetch-level hostile cases refused");
}
