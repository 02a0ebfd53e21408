//! Fixed vectors: exact signing strings and signatures computed outside this code (OpenSSL
//! for ours, the RFC for RFC 9421 Appendix B), under a frozen clock.

use std::time::{Duration, SystemTime};

use aws_lc_rs::{
    encoding::AsDer,
    signature::{Ed25519KeyPair, KeyPair as _},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use http::Method;

use super::super::{Algorithm, PublicKey, Scheme, SignatureError, finish, policy, rfc9421};
use super::fixtures::*;

/// What OpenSSL signs for `signed_post(at(0))`.
const POST_SIGNING_STRING: &str = "(request-target): post /users/bob/inbox\n\
host: openhouse.example\n\
date: Tue, 14 Nov 2023 22:13:20 GMT\n\
digest: SHA-256=6Nw7oxBsaBsnOiyy+PcHzMvbBXQ0hDJ6zFBENTXbiQc=\n\
content-type: application/activity+json";

/// `openssl dgst -sha256 -sign test_priv.pem post.txt | base64`
const POST_SIGNATURE: &str = "S4ypeXYFpqwLlzaSHT904hZbGe1TmTmKcuJ9g4BqhamEwXlNgRfUzGIt9yt14OhJz3xa1j8pjZ3aQC/4Hm1/dxnq\
LXJwsXV0NgwY765gyWwpIR39tjOdcHKC0KMzrtr50BujdKrThWpZObIgZ0P+amsqdKeWGuYVgGJpncbL8d6r0rNgDyXsjSrt6YnimYU+jn0Mz04Y\
RT6Nh7T0nd6SIRstwbbrkehwvSXLHMoZf5tV/i6nOMV+DMt8g6HvWpwKlSyn5Ywks6e9drCvjzWFExf5QNJpOV3sQw70GS2xfk2ZzErneQLhpVRl\
UmW6xvrw++Aq1DYK0XOxM/Buyi1o0w==";

const GET_SIGNING_STRING: &str = "(request-target): get /users/bob/outbox?page=true\n\
host: openhouse.example\n\
date: Tue, 14 Nov 2023 22:13:20 GMT\n\
accept: application/activity+json";

const GET_SIGNATURE: &str = "W5PEkEiL5m2wtrFFhequ7M0mSfGdKOhvDsCtNhZXH028/hBuJUNz2XI8DPbyY09Io2+awEYcsOynW0CJvxIkTI7N\
5+gNHNzD17s6X34Jk5isDI6qUyvq/KDTWjxB0q1i96YZ7FZBDZZaRyn8xeoJ43cS4m9EQBetYcVL2OsuTwWPvr+hv90eV2125Wc6rA7hfQ4u7Zzr\
0wxN4sM/8kJqdnSA7B641YRkSoTJNG85uWqPxfXzoOh1pD7Gf8W0u0hhkRxVeFBF2c2tmQE5dWkTXqNvUD/gCtk5DaJZiB/jowW1FswdsbqhTxro\
u79Op3U9/8ttEfdmE1AaBsGoOktakw==";

#[test]
fn our_cavage_post_signature_matches_openssl_exactly() {
    let req = signed_post(at(0));
    assert_eq!(req.header("host"), "openhouse.example");
    assert_eq!(req.header("date"), "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_eq!(req.header("digest"), "SHA-256=6Nw7oxBsaBsnOiyy+PcHzMvbBXQ0hDJ6zFBENTXbiQc=");
    assert_eq!(
        req.header("signature"),
        format!(
            r#"keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="{POST_SIGNATURE}""#
        )
    );
    let parsed = req.check(at(0)).unwrap();
    assert_eq!(parsed.signing_string(), POST_SIGNING_STRING.as_bytes());
    assert_eq!(parsed.signature(), STANDARD.decode(POST_SIGNATURE).unwrap());
    assert_eq!((parsed.scheme(), parsed.algorithm()), (Scheme::Cavage, Algorithm::RsaPkcs1Sha256));
    assert_eq!(parsed.key_id().as_str(), KEY_ID);
    assert_eq!(parsed.key_owner().as_str(), "https://remote.example/users/alice");
    assert_eq!(parsed.created(), at(0));
}

#[test]
fn our_cavage_get_signature_matches_openssl_exactly() {
    let req = signed_get(at(0));
    assert_eq!(req.headers.get("digest"), None);
    assert_eq!(
        req.header("signature"),
        format!(
            r#"keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date accept",signature="{GET_SIGNATURE}""#
        )
    );
    let parsed = req.check(at(0)).unwrap();
    assert_eq!(parsed.signing_string(), GET_SIGNING_STRING.as_bytes());
}

#[test]
fn a_pkcs1_public_key_verifies_the_same_signature() {
    let parsed = signed_post(at(0)).parse(at(0)).unwrap();
    assert_eq!(parsed.verify(&PublicKey::from_pem(PUBLIC_PKCS1_PEM).unwrap()), Ok(()));
}

/// Our own RFC 9421 `rsa-v1_5-sha256` vector, signed with OpenSSL over the base below.
#[test]
fn an_rfc9421_rsa_v1_5_signature_matches_openssl_exactly() {
    const BASE: &str = "\"@method\": POST\n\
\"@target-uri\": https://openhouse.example/users/bob/inbox\n\
\"content-digest\": sha-256=:6Nw7oxBsaBsnOiyy+PcHzMvbBXQ0hDJ6zFBENTXbiQc=:\n\
\"content-type\": application/activity+json\n\
\"@signature-params\": (\"@method\" \"@target-uri\" \"content-digest\" \"content-type\");created=1700000000;\
keyid=\"https://remote.example/users/alice#main-key\";alg=\"rsa-v1_5-sha256\"";
    const SIGNATURE: &str = "Ex4DpIJE1OSKEjX1FKMavIdUHMqwEiUdjGTS7D4KwkmXFIxw3Sxt22dO0rsIaPdLpWXCXJrnOIXVFLrkEOdyAEc4\
/nr/h0W8vGy0ONJcx6rct6suGvRrpV2m4nq/KvvpU3we7DAmxfdRlID/3XNj/ID3LEUruqMbWwhJ7Iq+b4bt8FT1zQPBQr+i2t4acKG0iYzD5xWq\
fAfW5O4/n3Tp1jsHFqzOHBBQUC7gGMcKFSbWFCkkkwPtPiAeCHf/zBpk8RH3JOz9N3B/7DO24m9OUSPhC8h/4LFr88WOsitdtxwCAq2gZX2MH9GI\
2KSUZ+xfM5cHdDwC/YdnlcKZoSFugA==";
    let mut req = Req::new(Method::POST, INBOX, FOLLOW.as_bytes());
    req.set("content-type", ACTIVITY_JSON).set("content-digest", &content_digest(FOLLOW.as_bytes()));
    // Extra whitespace: the @signature-params line is the canonical re-serialization.
    req.set(
        "signature-input",
        &format!(
            r#"sig1=( "@method"  "@target-uri" "content-digest" "content-type" );created=1700000000;keyid="{KEY_ID}";alg="rsa-v1_5-sha256""#
        ),
    );
    req.set("signature", &format!("sig1=:{SIGNATURE}:"));
    let parsed = req.check(at(30)).unwrap();
    assert_eq!(parsed.signing_string(), BASE.as_bytes());
    assert_eq!((parsed.scheme(), parsed.algorithm()), (Scheme::Rfc9421, Algorithm::RsaPkcs1Sha256));
    assert_eq!(parsed.created(), at(0));
}

/// RFC 9421 Appendix B.2 `test-request`, at the RFC's own clock.
fn rfc_test_request() -> (Req, SystemTime) {
    let mut req = Req::new(Method::POST, "https://example.com/foo?param=Value&Pet=dog", br#"{"hello": "world"}"#);
    req.set("date", "Tue, 20 Apr 2021 02:07:55 GMT")
        .set("content-type", "application/json")
        .set(
            "content-digest",
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        )
        .set("content-length", "18");
    (req, SystemTime::UNIX_EPOCH + Duration::from_secs(1_618_884_473))
}

/// B.2.1: no components at all; verify-only (PSS is randomized). Our policy refuses such a
/// signature (it binds nothing), so the base is checked below the policy.
#[test]
fn rfc9421_b_2_1_minimal_rsa_pss_signature_verifies() {
    let (mut req, _) = rfc_test_request();
    req.set(
        "signature-input",
        r#"sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#,
    );
    req.set(
        "signature",
        "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXa\
JMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsf\
xVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ\
98Xw9Q==:",
    );
    let candidate = rfc9421::parse(&req.parts()).unwrap().remove(0).unwrap();
    assert_eq!(
        candidate.signing_string,
        br#""@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#
    );
    let key = PublicKey::from_pem(RFC9421_RSA_PSS_PEM).unwrap();
    let verify = |alg| key.verify(alg, &candidate.signing_string, &candidate.signature);
    assert_eq!(verify(Algorithm::RsaPssSha512), Ok(()));
    assert_eq!(verify(Algorithm::FromKey), Ok(()), "no alg: an RSA key falls back to PSS");
    assert_eq!(verify(Algorithm::RsaPkcs1Sha256), Err(SignatureError::BadSignature));
    assert_eq!(
        policy::check_coverage(Scheme::Rfc9421, &Method::POST, &candidate.coverage),
        Err(SignatureError::NotCovered("@authority or @target-uri"))
    );
}

/// B.2.3: full coverage with rsa-pss-sha512 passes every check of ours but the key id,
/// which in the fediverse must be a URL.
#[test]
fn rfc9421_b_2_3_full_coverage_rsa_pss_signature_verifies() {
    const BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
\"@method\": POST\n\
\"@path\": /foo\n\
\"@query\": ?param=Value&Pet=dog\n\
\"@authority\": example.com\n\
\"content-type\": application/json\n\
\"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n\
\"content-length\": 18\n\
\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@query\" \"@authority\" \"content-type\" \"content-digest\" \
\"content-length\");created=1618884473;keyid=\"test-key-rsa-pss\"";
    let (mut req, now) = rfc_test_request();
    req.set(
        "signature-input",
        r#"sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss""#,
    );
    req.set(
        "signature",
        "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrC\
Ub38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xM\
y7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKE\
gM4cUA==:",
    );
    let candidate = rfc9421::parse(&req.parts()).unwrap().remove(0).unwrap();
    assert_eq!(candidate.signing_string, BASE.as_bytes());
    let key = PublicKey::from_pem(RFC9421_RSA_PSS_PEM).unwrap();
    assert_eq!(key.verify(Algorithm::RsaPssSha512, &candidate.signing_string, &candidate.signature), Ok(()));
    // Coverage, time window and the SHA-512 Content-Digest pass; only the key id fails.
    let refused = finish(candidate, &req.parts(), now).unwrap_err();
    assert!(
        matches!(&refused, SignatureError::Malformed { reason, .. } if reason.contains("not an http(s) URL")),
        "{refused:?}"
    );
    // And tampering with the base breaks the RFC's signature.
    let mut tampered = rfc9421::parse(&req.parts()).unwrap().remove(0).unwrap();
    tampered.signing_string = BASE.replace("/foo", "/bar").into_bytes();
    assert_eq!(
        key.verify(Algorithm::RsaPssSha512, &tampered.signing_string, &tampered.signature),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn an_rfc9421_ed25519_signature_verifies_with_an_ed25519_key_only() {
    let pair = Ed25519KeyPair::generate().unwrap();
    let spki = pair.public_key().as_der().unwrap();
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(spki.as_ref()));
    let ed_key = PublicKey::from_pem(&pem).unwrap();
    assert_eq!(ed_key.kind(), super::super::KeyKind::Ed25519);

    let mut req = rfc9421_post(at(0), MASTODON_POST, r#";alg="ed25519""#);
    let base = rfc9421::parse(&req.parts()).unwrap().remove(0).unwrap().signing_string;
    req.set("signature", &format!("sig1=:{}:", STANDARD.encode(pair.sign(&base))));
    let parsed = req.parse(at(0)).unwrap();
    assert_eq!(parsed.algorithm(), Algorithm::Ed25519);
    assert_eq!(parsed.verify(&ed_key), Ok(()));
    assert_eq!(
        parsed.verify(&public_key()),
        Err(SignatureError::KeyMismatch { algorithm: "ed25519".into(), key: "RSA" })
    );
}
