//! The draft-cavage `Signature` header parser (`src/federation/signatures/cavage.rs`),
//! through the public `parse_request`: the input is the header's value, on a Mastodon-like
//! POST whose other headers (`Host`, `Date`, `Digest`, `Content-Digest`) are valid, so that
//! an input can get all the way to an accepted signature.
//!
//! Checked beyond "no panic": an accepted signature's signing string really binds what I3
//! demands of a POST — one line each for the request target, the host, the body digest and
//! a time — with the request's own values.

#![no_main]

mod common;

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use openhouse::federation::signatures::{SIGNATURE, Scheme};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else { return };
    let mut headers = common::base_headers();
    headers.insert(SIGNATURE, value);
    let Some(parsed) = common::parse_post(&headers) else { return };
    common::check_parsed(&parsed);
    assert_eq!(parsed.scheme(), Scheme::Cavage);
    let lines = common::lines(parsed.signing_string());
    let has = |line: &str| lines.contains(&line);
    assert!(has("(request-target): post /inbox"), "the target is not bound: {lines:?}");
    assert!(has("host: openhouse.example"), "the host is not bound: {lines:?}");
    assert!(
        has("digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=")
            || has("content-digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
        "the body is not bound: {lines:?}"
    );
    assert!(
        has("date: Mon, 07 Dec 2026 20:00:00 GMT") || lines.iter().any(|l| l.starts_with("(created): ")),
        "no time is bound: {lines:?}"
    );
});
