//! What the body says and how: JSON-LD tricks (only the plain keys, with the plain shapes,
//! count), values of the wrong shape, bodies that are not one JSON object, and content
//! types that are not ActivityPub's, each with a valid signature.

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::json;

use super::{Suite, brand_and_known_actors, with};
use crate::support::{Options, fake_remote::instance_with_fakes};

#[tokio::test]
async fn hostile_requests_are_refused_at_the_inbox_and_change_nothing() {
    let (a, fake1, _fake2) = instance_with_fakes(Options::default()).await;
    let (acme, ada, bob) = brand_and_known_actors(&a, &fake1).await;
    let follow = ada.activity("Follow", json!(acme));
    let mut s = Suite::new(&a).await;

    // JSON-LD tricks: only the plain keys, with the plain shapes, count.
    let graph = json!({"@context": "https://www.w3.org/ns/activitystreams", "@graph": [follow]});
    s.refused("@graph", 400, ada.send(&a, &graph).await).await;
    let aliased = json!({"@id": follow["id"], "@type": "Follow", "as:actor": ada.id, "as:object": acme});
    s.refused("aliased keys (@id, @type, as:actor)", 400, ada.send(&a, &aliased).await).await;
    let got = ada.send(&a, &with(follow.clone(), "id", json!([follow["id"]]))).await;
    s.refused("array where the id belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "actor", json!([ada.id, bob.id]))).await;
    s.refused("array where the actor belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "type", json!(["Follow", "Like"]))).await;
    s.refused("array where the type belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "id", json!({"id": follow["id"]}))).await;
    s.refused("object where the id belongs", 400, got).await;
    let got = ada.send(&a, &with(follow.clone(), "actor", json!({"id": {"id": ada.id}}))).await;
    s.refused("nested object where the actor id belongs", 400, got).await;
    // Not JSON, or not an object.
    let html = b"<html><body><script>alert(1)</script></body></html>";
    s.refused("HTML body", 400, ada.post_raw(&a, html, |_| {}).await).await;
    s.refused("empty body", 400, ada.post_raw(&a, b"", |_| {}).await).await;
    s.refused("JSON array body", 400, ada.post_raw(&a, format!("[{follow}]").as_bytes(), |_| {}).await).await;
    s.refused("JSON null body", 400, ada.post_raw(&a, b"null", |_| {}).await).await;
    let mut latin1 = follow.to_string().into_bytes();
    latin1.extend_from_slice(b"\xff\xfe");
    s.refused("bytes that are not UTF-8", 400, ada.post_raw(&a, &latin1, |_| {}).await).await;
    // Wrong content types, even with a valid signature and a valid activity.
    for (name, content_type) in [
        ("text/plain content type", "text/plain"),
        ("text/html content type", "text/html; charset=utf-8"),
        ("form content type", "application/x-www-form-urlencoded"),
        ("multipart content type", "multipart/form-data; boundary=x"),
    ] {
        let body = ada.activity("Follow", json!(acme)).to_string();
        let got = ada
            .post_raw(&a, body.as_bytes(), |h| {
                h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            })
            .await;
        s.refused(name, 415, got).await;
    }

    let cases = s.finish(16);
    println!("{cases} payload cases refused");
}
