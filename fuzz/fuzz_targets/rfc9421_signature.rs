//! RFC 9421 `Signature-Input` / `Signature` parsing (`src/federation/signatures/rfc9421.rs`),
//! through the public `parse_request`: the input is `Signature-Input`, a newline, then
//! `Signature`, on a POST whose other headers are valid.
//!
//! Checked beyond "no panic": an accepted signature's base binds what I3 demands of a POST
//! (method, target, authority, body digest, a time) with the request's own values, and ends
//! with the `@signature-params` line.

#![no_main]

mod common;

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use openhouse::federation::signatures::{SIGNATURE, SIGNATURE_INPUT, Scheme};

fuzz_target!(|data: &[u8]| {
    let (input, signature) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let (Ok(input), Ok(signature)) = (HeaderValue::from_bytes(input), HeaderValue::from_bytes(signature)) else {
        return;
    };
    let mut headers = common::base_headers();
    headers.insert(SIGNATURE_INPUT, input);
    headers.insert(SIGNATURE, signature);
    let Some(parsed) = common::parse_post(&headers) else { return };
    common::check_parsed(&parsed);
    assert_eq!(parsed.scheme(), Scheme::Rfc9421);
    let lines = common::lines(parsed.signing_string());
    let has = |line: &str| lines.contains(&line);
    let target_uri = has("\"@target-uri\": https://openhouse.example/inbox");
    assert!(has("\"@method\": POST"), "the method is not bound: {lines:?}");
    assert!(
        target_uri || has("\"@path\": /inbox") || has("\"@request-target\": /inbox"),
        "the target is not bound: {lines:?}"
    );
    assert!(
        target_uri || has("\"@authority\": openhouse.example") || has("\"host\": openhouse.example"),
        "the authority is not bound: {lines:?}"
    );
    assert!(
        has("\"digest\": SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=")
            || has("\"content-digest\": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
        "the body is not bound: {lines:?}"
    );
    let params = lines.last().and_then(|l| l.strip_prefix("\"@signature-params\": ("));
    let params = params.unwrap_or_else(|| panic!("no @signature-params line last: {lines:?}"));
    assert!(
        params.contains(";created=") || has("\"date\": Mon, 07 Dec 2026 20:00:00 GMT"),
        "no time is bound: {lines:?}"
    );
});
