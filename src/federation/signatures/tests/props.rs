//! proptest properties of the signature layer: arbitrary bytes and structured-but-wrong
//! headers never panic the parsers; a signed request verifies and any change to its body
//! or target does not; a digest header is accepted exactly when it matches the body.

use base64::{Engine, engine::general_purpose::STANDARD};
use http::{HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use url::Url;

use super::super::{CONTENT_DIGEST, DIGEST, policy::Coverage, sign_request};
use super::fixtures::*;

/// Header values as bytes: anything a client could put on the wire (`HeaderValue` refuses
/// control characters other than tab, which the parsers therefore never see).
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "[\"\\\\,;=:()*@?/#% ._a-zA-Z0-9+-]{0,200}".prop_map(String::into_bytes),
    ]
}

/// A draft-cavage parameter list built from the grammar, with wrong values: unknown or
/// repeated names, quotes and escapes, numbers out of range, junk base64, odd `headers`.
fn cavage_params() -> impl Strategy<Value = String> {
    let name = proptest::sample::select(vec![
        "keyId",
        "keyid",
        "algorithm",
        "headers",
        "signature",
        "created",
        "expires",
        "x",
        "KEYID",
        "",
    ]);
    let value = prop_oneof![
        Just(format!("\"{KEY_ID}\"")),
        Just("\"rsa-sha256\"".to_owned()),
        Just("hs2019".to_owned()),
        Just("\"(request-target) host date digest\"".to_owned()),
        Just("\"(created) (expires) (request-target)\"".to_owned()),
        Just("\"(bogus) host host\"".to_owned()),
        Just("\"AAAA\"".to_owned()),
        Just(format!("\"{}\"", "QUFB".repeat(400))),
        Just("\"not base64!\"".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("1700000000".to_owned()),
        Just("\"unterminated".to_owned()),
        Just("\"a\\\"b\\\\\"".to_owned()),
        "[a-zA-Z0-9 ()\\\\\"=,-]{0,30}",
    ];
    proptest::collection::vec((name, value), 0..10)
        .prop_map(|params| params.into_iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(","))
}

/// RFC 9421 `Signature-Input` built from the grammar with wrong types, repeated or
/// unsupported components, and `Signature` dictionaries that may or may not match.
fn rfc9421_headers() -> impl Strategy<Value = (String, String)> {
    let component = proptest::sample::select(vec![
        "\"@method\"",
        "\"@target-uri\"",
        "\"@authority\"",
        "\"@path\"",
        "\"@query\"",
        "\"@request-target\"",
        "\"@scheme\"",
        "\"@status\"",
        "\"@query-param\";name=\"a\"",
        "\"content-digest\"",
        "\"digest\"",
        "\"date\"",
        "\"Date\"",
        "\"host\"",
        "\"content-type\";sf",
        "\"x-missing\"",
        "42",
        "?1",
        ":AAAA:",
        "token",
    ]);
    let param = proptest::sample::select(vec![
        ";created=1700000000",
        ";created=\"1700000000\"",
        ";created=-5",
        ";created=999999999999999",
        ";expires=1700000300",
        ";expires=1",
        ";keyid=\"https://remote.example/users/alice#main-key\"",
        ";keyid=token",
        ";keyid=\"not a url\"",
        ";alg=\"rsa-v1_5-sha256\"",
        ";alg=\"ed25519\"",
        ";alg=\"hmac-sha256\"",
        ";alg=?0",
        ";nonce=\"x\"",
    ]);
    let label = proptest::sample::select(vec!["sig1", "sig2", "SIG", "a"]);
    let input = (
        label.clone(),
        proptest::collection::vec(component, 0..8),
        proptest::collection::vec(param, 0..6),
        any::<bool>(),
    )
        .prop_map(|(label, components, params, bare)| {
            if bare {
                format!("{label}={}", components.join(" "))
            } else {
                format!("{label}=({}){}", components.join(" "), params.concat())
            }
        });
    let signature = prop_oneof![
        Just(":AAAA:".to_owned()),
        Just("::".to_owned()),
        Just(format!(":{}:", "QUFB".repeat(400))),
        Just("\"string\"".to_owned()),
        Just("(:AAAA:)".to_owned()),
        "[a-z0-9:=+/]{0,20}",
    ];
    (proptest::collection::vec(input, 1..4), proptest::collection::vec((label, signature), 0..4)).prop_map(
        |(inputs, sigs)| {
            let sigs = sigs.into_iter().map(|(l, s)| format!("{l}={s}")).collect::<Vec<_>>().join(", ");
            (inputs.join(", "), sigs)
        },
    )
}

fn set_bytes(req: &mut Req, name: &'static str, value: &[u8]) {
    if let Ok(value) = HeaderValue::from_bytes(value) {
        req.headers.insert(HeaderName::from_static(name), value);
    }
}

/// Parses and, if that passes, verifies: neither may panic.
fn exercise(req: &Req) {
    if let Ok(parsed) = req.parse(at(0)) {
        let _ = parsed.verify(&public_key());
        let _ = parsed.key_owner();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_in_any_signature_header_never_panic(
        name in proptest::sample::select(vec!["signature", "signature-input", "digest", "content-digest", "date"]),
        value in header_bytes(),
        second in proptest::option::of(header_bytes()),
        rfc in any::<bool>(),
    ) {
        let mut req = if rfc { rfc9421_post(at(0), MASTODON_POST, "") } else { signed_post(at(0)) };
        set_bytes(&mut req, name, &value);
        if let Some(second) = second.and_then(|s| HeaderValue::from_bytes(&s).ok()) {
            req.headers.append(HeaderName::from_static(name), second);
        }
        exercise(&req);
    }

    #[test]
    fn structured_but_wrong_cavage_signatures_never_panic_and_never_verify(
        params in cavage_params(),
        method in proptest::sample::select(vec![Method::POST, Method::GET]),
        target in "/[a-z/?=&%.]{0,30}",
    ) {
        let mut req = signed_post(at(0));
        req.method = method;
        req.target = target;
        req.set("signature", &params);
        if let Ok(parsed) = req.parse(at(0)) {
            // None of the generated signatures was made with the key.
            prop_assert!(parsed.verify(&public_key()).is_err(), "{} verified", params);
        }
    }

    #[test]
    fn structured_but_wrong_rfc9421_signatures_never_panic_and_never_verify(
        (input, signature) in rfc9421_headers(),
        target in "/[a-z/?=&%.]{0,30}",
    ) {
        let mut req = rfc9421_post(at(0), MASTODON_POST, "");
        req.target = target;
        req.set("signature-input", &input);
        req.set("signature", &signature);
        if let Ok(parsed) = req.parse(at(0)) {
            prop_assert!(parsed.verify(&public_key()).is_err(), "{} / {} verified", input, signature);
        }
    }

    #[test]
    fn a_signed_request_verifies_and_any_changed_byte_of_body_or_target_does_not(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        path in "/[a-z0-9/]{0,30}",
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let url = Url::parse(&format!("https://openhouse.example{path}")).unwrap();
        let mut req = Req::new(Method::POST, url.as_str(), &body);
        sign_request(&signing_key(), &req.method, &url, &mut req.headers, Some(&req.body), at(0)).unwrap();
        prop_assert!(req.check(at(0)).is_ok());

        let mut tampered = req.clone();
        if tampered.body.is_empty() {
            tampered.body.push(b'x');
        } else {
            let i = flip.index(tampered.body.len());
            tampered.body[i] ^= 1 << bit;
        }
        prop_assert!(tampered.check(at(0)).is_err(), "a changed body verified");

        let mut moved = req.clone();
        moved.target = format!("{}x", req.target);
        prop_assert!(moved.check(at(0)).is_err(), "another target verified");
    }

    #[test]
    fn a_digest_header_passes_exactly_when_it_matches_the_body(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        other in proptest::collection::vec(any::<u8>(), 0..256),
        sha512 in any::<bool>(),
        upper in any::<bool>(),
        junk in "[A-Za-z0-9=:, -]{0,40}",
    ) {
        let algorithm = if sha512 { &aws_lc_rs::digest::SHA512 } else { &aws_lc_rs::digest::SHA256 };
        let name = match (sha512, upper) {
            (true, true) => "SHA-512",
            (true, false) => "sha-512",
            (false, true) => "SHA-256",
            (false, false) => "sha-256",
        };
        let hash = |b: &[u8]| STANDARD.encode(aws_lc_rs::digest::digest(algorithm, b));
        let digest_of = |b: &[u8]| format!("{name}={}", hash(b));
        let content_digest_of = |b: &[u8]| format!("{}=:{}:", name.to_ascii_lowercase(), hash(b));
        let check = |header: HeaderName, value: &str, b: &[u8]| {
            let mut headers = http::HeaderMap::new();
            headers.insert(header.clone(), HeaderValue::from_str(value).unwrap());
            let coverage = Coverage { digest: header == DIGEST, content_digest: header == CONTENT_DIGEST, ..Coverage::default() };
            super::super::digest::check(&coverage, &headers, b)
        };
        prop_assert!(check(DIGEST, &digest_of(&body), &body).is_ok());
        prop_assert!(check(CONTENT_DIGEST, &content_digest_of(&body), &body).is_ok());
        // An unknown algorithm alongside does not matter.
        let with_unknown = format!("MD5=AAAA, {}", digest_of(&body));
        prop_assert!(check(DIGEST, &with_unknown, &body).is_ok());
        prop_assume!(other != body);
        prop_assert!(check(DIGEST, &digest_of(&other), &body).is_err());
        prop_assert!(check(CONTENT_DIGEST, &content_digest_of(&other), &body).is_err());
        // Junk never passes for a non-empty body, and never panics.
        let _ = check(DIGEST, &junk, &body);
        let _ = check(CONTENT_DIGEST, &junk, &body);
        let one_wrong = format!("{}, {}", digest_of(&body), digest_of(&other));
        prop_assert!(check(DIGEST, &one_wrong, &body).is_err(), "every known digest must match");
    }
}
