//! Size, depth and time bounds: oversize ids and bodies, JSON nested deep enough to
//! overflow a recursive parser, and an actor document that drips in one byte a second.

use std::time::{Duration, Instant};

use openhouse::domain::ActorKind;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use super::{Suite, brand_and_known_actors, with};
use crate::support::{
    Options,
    fake_remote::{FakeActor, instance_with_fakes},
};

#[tokio::test]
async fn oversize_and_deeply_nested_bodies_are_refused_and_change_nothing() {
    let (a, fake1, _fake2) = instance_with_fakes(Options::default()).await;
    let (acme, ada, _bob) = brand_and_known_actors(&a, &fake1).await;
    let follow = ada.activity("Follow", json!(acme));
    let mut s = Suite::new(&a).await;

    let long_id = format!("{}/activities/{}", ada.id, "x".repeat(3000));
    s.refused("oversize id", 400, ada.send(&a, &with(follow.clone(), "id", json!(long_id))).await).await;
    let huge = with(follow.clone(), "padding", json!("x".repeat(1024 * 1024)));
    s.refused("body over 1 MiB", 413, ada.send(&a, &huge).await).await;
    // Deep nesting: refused by the JSON parser's depth limit, never a stack overflow.
    let deep = format!(
        r#"{{"id":"{}","type":"Create","actor":"{}","object":{}1{}}}"#,
        ada.new_id("activities"),
        ada.id,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    s.refused("100,000 nested arrays", 400, ada.post_raw(&a, deep.as_bytes(), |_| {}).await).await;
    let deep = format!("{}1{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    s.refused("50,000 nested objects", 400, ada.post_raw(&a, deep.as_bytes(), |_| {}).await).await;

    let cases = s.finish(4);
    println!("{cases} size and depth cases refused");
}

/// An HTTP server (on an allow-listed address) that answers 200 with an ActivityPub type
/// and then sends one byte of body per second, for a minute (F4: we must give up at 10 s).
/// Its pauses are the slowness under test, not a wait for something to happen.
async fn slow_drip(ip: &str) -> String {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: application/activity+json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..60 {
                    if stream.write_all(b"1\r\n \r\n").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        }
    });
    base
}

#[tokio::test]
async fn a_slow_drip_actor_document_times_out() {
    let (a, _fake1, _fake2) = instance_with_fakes(Options::default()).await;
    a.create_actor("acme", ActorKind::Brand, "Acme").await;
    let base = slow_drip("127.0.0.4").await;
    let actor = FakeActor::at(&format!("{base}/users/drip"));
    let mut s = Suite::new(&a).await;
    let started = Instant::now();
    let status = actor.send(&a, &actor.activity("Follow", json!(a.actor_url("acme")))).await;
    let took = started.elapsed();
    s.refused("slow-drip actor document", 401, status).await;
    // F4: the whole request is bounded by 10 s (not by the minute the drip would last).
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(30), "gave up after {took:?}");
    s.finish(1);
}
