//! Round trips through our own signer and verifier, the draft-cavage variants other servers
//! send (`hs2019`, `(created)`/`(expires)`), and key handling.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD};
use http::{Method, StatusCode};
use url::Url;

use super::super::{
    Algorithm, KeyCache, KeyError, KeyKind, PublicKey, SignatureError, SigningKey, cavage::signing_string, sign_request,
};
use super::fixtures::*;

#[test]
fn sign_then_verify_round_trips_for_post_and_get_with_a_generated_key() {
    let keys = crate::crypto::generate_rsa_keys().unwrap();
    let signer = SigningKey::from_pkcs8_pem(Url::parse(KEY_ID).unwrap(), &keys.private_pem).unwrap();
    let public = PublicKey::from_pem(&keys.public_pem).unwrap();
    for (method, url, body) in [(Method::POST, INBOX, Some(FOLLOW.as_bytes())), (Method::GET, OUTBOX_PAGE, None)] {
        let mut req = Req::new(method.clone(), url, body.unwrap_or_default());
        sign_request(&signer, &method, &Url::parse(url).unwrap(), &mut req.headers, body, at(0)).unwrap();
        let parsed = req.parse(at(10)).unwrap();
        assert_eq!(parsed.verify(&public), Ok(()), "{method}");
    }
}

#[test]
fn a_port_is_part_of_the_signed_host() {
    let url = Url::parse("http://127.0.0.1:8083/inbox").unwrap();
    let mut req = Req::new(Method::POST, url.as_str(), b"{}");
    sign_request(&signing_key(), &Method::POST, &url, &mut req.headers, Some(b"{}"), at(0)).unwrap();
    assert_eq!(req.header("host"), "127.0.0.1:8083");
    req.authority = "127.0.0.1:8083".into();
    assert_eq!(req.check(at(0)).map(|_| ()), Ok(()));
}

/// An `hs2019` signature with `(created)` and `(expires)` and no Date, as some servers send.
fn hs2019_post(created: u64, expires: u64) -> Req {
    let mut req = Req::new(Method::POST, INBOX, FOLLOW.as_bytes());
    req.set("digest", &super::super::sha256_digest_header(FOLLOW.as_bytes()));
    let names: Vec<String> =
        ["(request-target)", "host", "(created)", "(expires)", "digest"].iter().map(|s| s.to_string()).collect();
    let (c, e) = (created.to_string(), expires.to_string());
    let message =
        signing_string(&names, &req.method, &req.target, &req.authority, &req.headers, Some(&c), Some(&e)).unwrap();
    let signature = STANDARD.encode(signing_key().sign_bytes(&message).unwrap());
    req.set(
        "signature",
        &format!(
            r#"keyId="{KEY_ID}",algorithm="hs2019",created={c},expires={e},headers="{}",signature="{signature}""#,
            names.join(" ")
        ),
    );
    req
}

#[test]
fn hs2019_with_created_and_expires_is_verified_by_key_type() {
    let req = hs2019_post(T0, T0 + 300);
    let parsed = req.check(at(0)).unwrap();
    assert_eq!(parsed.algorithm(), Algorithm::FromKey);
    assert_eq!(parsed.created(), at(0));
    assert_eq!(req.check(at(300 + 3600)).map(|_| ()), Ok(()));
    assert_eq!(req.check(at(300 + 3601)).map(|_| ()), Err(SignatureError::Expired));
}

#[test]
fn covered_created_without_its_parameter_is_malformed() {
    let mut req = hs2019_post(T0, T0 + 300);
    req.edit_signature(|s| s.replace(&format!("created={T0},"), ""));
    assert!(matches!(req.check(at(0)), Err(SignatureError::Malformed { .. })));
}

#[test]
fn public_keys_parse_from_every_form_actors_publish() {
    assert_eq!(PublicKey::from_pem(PUBLIC_PEM).unwrap().kind(), KeyKind::Rsa);
    assert_eq!(PublicKey::from_pem(PUBLIC_PKCS1_PEM).unwrap().kind(), KeyKind::Rsa);
    let crlf = PUBLIC_PEM.replace('\n', "\r\n");
    assert!(PublicKey::from_pem(&crlf).is_ok());
    let body: String = PUBLIC_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
    let one_line = format!("-----BEGIN PUBLIC KEY-----{body}-----END PUBLIC KEY-----");
    assert!(PublicKey::from_pem(&one_line).is_ok());
    let embedded = format!("junk before\n{PUBLIC_PEM}junk after");
    assert!(PublicKey::from_pem(&embedded).is_ok());
}

#[test]
fn unusable_public_keys_are_refused_with_a_reason() {
    assert_eq!(PublicKey::from_pem("not a key").unwrap_err(), KeyError::NotPem);
    assert_eq!(PublicKey::from_pem(PRIVATE_PEM).unwrap_err(), KeyError::UnsupportedLabel("PRIVATE KEY".into()));
    let truncated = PUBLIC_PEM.replace("RwIDAQAB", "");
    assert!(matches!(PublicKey::from_pem(&truncated), Err(KeyError::Rejected(_))));
    // A 1024-bit RSA key, generated with `openssl genpkey … rsa_keygen_bits:1024`.
    let small = "-----BEGIN PUBLIC KEY-----\n\
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDt2SY9MnOvZRbMFIISR7s0HUQy\n\
A2ggfDHc+uB5igKHsJR+LYgqgWL1e7A0LLHhr8qcGZRc5888MIrIn72csWoKUtM1\n\
uOfk+Adl5RaHJagoNvBNOGglcgMOKwkyotmbevaUu34X7+EaSUW+WePmcq+ny7OK\n\
eb/+HOExsGIomF3RtQIDAQAB\n\
-----END PUBLIC KEY-----\n";
    assert_eq!(PublicKey::from_pem(small).unwrap_err(), KeyError::Rejected("RSA keys must be 2048 to 8192 bits"));
    assert_eq!(PublicKey::from_pem(&"A".repeat(20_000)).unwrap_err(), KeyError::TooLarge(16 * 1024));
}

#[test]
fn signing_keys_refuse_public_or_unusable_pem() {
    let id = Url::parse(KEY_ID).unwrap();
    assert!(SigningKey::from_pkcs8_pem(id.clone(), PUBLIC_PEM).is_err());
    assert!(SigningKey::from_pkcs8_pem(id, "garbage").is_err());
    let quoted = Url::parse("https://remote.example/users/a\\b#main-key").unwrap();
    // The url crate turns `\` into `/` in special schemes, so a key id stays quotable.
    assert!(SigningKey::from_pkcs8_pem(quoted, PRIVATE_PEM).is_ok());
}

#[test]
fn the_key_cache_parses_once_and_notices_a_rotated_key() {
    let cache = KeyCache::new(100);
    let first = cache.get_or_parse(KEY_ID, PUBLIC_PEM).unwrap();
    let again = cache.get_or_parse(KEY_ID, PUBLIC_PEM).unwrap();
    assert!(Arc::ptr_eq(&first, &again), "the second lookup is served from the cache");
    let rotated = crate::crypto::generate_rsa_keys().unwrap();
    let fresh = cache.get_or_parse(KEY_ID, &rotated.public_pem).unwrap();
    assert!(!Arc::ptr_eq(&first, &fresh), "a different PEM under the same id is parsed anew");
    assert_eq!(cache.len(), 1);
    assert!(Arc::ptr_eq(&cache.get(KEY_ID).unwrap(), &fresh));
    cache.remove(KEY_ID);
    assert!(cache.get(KEY_ID).is_none());
    assert!(cache.get_or_parse(KEY_ID, "garbage").is_err());
    assert!(cache.is_empty(), "a key that does not parse is not cached");
}

#[test]
fn the_key_cache_is_bounded_and_keeps_keys_in_use() {
    let cache = KeyCache::new(10);
    let hot = "https://hot.example/actor#main-key";
    cache.get_or_parse(hot, PUBLIC_PEM).unwrap();
    for i in 0..1000 {
        cache.get_or_parse(&format!("https://s{i}.example/actor#main-key"), PUBLIC_PEM).unwrap();
        assert!(cache.get(hot).is_some(), "a key used between insertions survives (round {i})");
        assert!(cache.len() <= cache.capacity());
    }
    assert_eq!(cache.capacity(), 10);
    assert!(cache.get("https://s0.example/actor#main-key").is_none(), "cold keys are evicted");
    assert_eq!(KeyCache::default().capacity(), KeyCache::DEFAULT_CAPACITY);
}

#[test]
fn errors_map_to_400_or_401() {
    let malformed = SignatureError::Malformed { header: "Signature", reason: "x".into() };
    assert_eq!(malformed.status_code(), StatusCode::BAD_REQUEST);
    for unauthorized in [
        SignatureError::Expired,
        SignatureError::FromTheFuture,
        SignatureError::BadSignature,
        SignatureError::DigestMismatch { header: "Digest" },
        SignatureError::NotCovered("digest"),
        SignatureError::UnsupportedAlgorithm("x".into()),
    ] {
        assert_eq!(unauthorized.status_code(), StatusCode::UNAUTHORIZED, "{unauthorized}");
    }
    assert_eq!(
        SignatureError::DigestMismatch { header: "Digest" }.to_string(),
        "the body does not match the Digest header"
    );
}
