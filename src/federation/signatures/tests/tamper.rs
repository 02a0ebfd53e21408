//! The tamper matrix: every way a signed request can be altered or be wrong, each with the
//! precise error the inbox will see.

use http::{Method, StatusCode};

use super::super::{PublicKey, Scheme, SignatureError, key_owner};
use super::fixtures::*;

/// A named change to a signed request.
type Tamper = (&'static str, fn(&mut Req));

const MIN: i64 = 60;
const HOUR: i64 = 60 * MIN;

fn bad() -> Result<(), SignatureError> {
    Err(SignatureError::BadSignature)
}

/// Runs the full check and drops the parsed signature.
fn check(req: &Req, now_secs: i64) -> Result<(), SignatureError> {
    req.check(at(now_secs)).map(|_| ())
}

// ---- draft-cavage -------------------------------------------------------------------------

#[test]
fn cavage_untouched_post_and_get_pass() {
    assert_eq!(check(&signed_post(at(0)), 0), Ok(()));
    assert_eq!(check(&signed_get(at(0)), 0), Ok(()));
}

#[test]
fn cavage_changed_body_is_a_digest_mismatch() {
    let mut req = signed_post(at(0));
    req.body = FOLLOW.replace("Follow", "Block").into_bytes();
    assert_eq!(check(&req, 0), Err(SignatureError::DigestMismatch { header: "Digest" }));
}

#[test]
fn cavage_changed_body_with_a_matching_digest_is_a_bad_signature() {
    let mut req = signed_post(at(0));
    req.body = FOLLOW.replace("Follow", "Block").into_bytes();
    let digest = super::super::sha256_digest_header(&req.body);
    req.set("digest", &digest);
    assert_eq!(check(&req, 0), bad());
}

#[test]
fn cavage_changed_digest_header_is_a_digest_mismatch() {
    let mut req = signed_post(at(0));
    req.set("digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=");
    assert_eq!(check(&req, 0), Err(SignatureError::DigestMismatch { header: "Digest" }));
}

#[test]
fn cavage_each_changed_covered_part_breaks_the_signature() {
    let tampers: [Tamper; 6] = [
        ("host (replayed to another server)", |r| r.authority = "other.example".into()),
        ("date", |r| {
            r.set("date", &httpdate::fmt_http_date(at(1)));
        }),
        ("content-type", |r| {
            r.set("content-type", "application/json");
        }),
        ("path", |r| r.target = "/users/carol/inbox".into()),
        ("query", |r| r.target = "/users/bob/inbox?x=1".into()),
        ("method", |r| r.method = Method::PUT),
    ];
    for (what, tamper) in tampers {
        let mut req = signed_post(at(0));
        tamper(&mut req);
        assert_eq!(check(&req, 0), bad(), "changing the {what} must break the signature");
    }
    let mut get = signed_get(at(0));
    get.set("accept", "text/html");
    assert_eq!(check(&get, 0), bad(), "changing a covered accept must break the signature");
}

#[test]
fn cavage_date_two_hours_ahead_is_from_the_future() {
    assert_eq!(check(&signed_post(at(2 * HOUR)), 0), Err(SignatureError::FromTheFuture));
    assert_eq!(check(&signed_post(at(59 * MIN)), 0), Ok(()), "an hour of skew is tolerated");
}

#[test]
fn cavage_date_only_signature_lives_65_minutes() {
    assert_eq!(check(&signed_post(at(0)), 64 * MIN), Ok(()));
    assert_eq!(check(&signed_post(at(0)), 66 * MIN), Err(SignatureError::Expired));
    assert_eq!(check(&signed_get(at(0)), 66 * MIN), Err(SignatureError::Expired));
}

#[test]
fn cavage_unparseable_date_is_refused() {
    let mut req = signed_post(at(0));
    req.set("date", "yesterday at noon");
    assert_eq!(check(&req, 0), Err(SignatureError::InvalidDate));
    assert_eq!(SignatureError::InvalidDate.status_code(), StatusCode::UNAUTHORIZED);
}

#[test]
fn cavage_unknown_algorithm_is_refused() {
    let mut req = signed_post(at(0));
    req.edit_signature(|s| s.replace("rsa-sha256", "rsa-sha512"));
    assert_eq!(check(&req, 0), Err(SignatureError::UnsupportedAlgorithm("rsa-sha512".into())));
}

#[test]
fn an_unsigned_request_is_missing_its_signature() {
    let mut req = signed_post(at(0));
    req.headers.remove("signature");
    assert_eq!(check(&req, 0), Err(SignatureError::Missing));
    assert_eq!(SignatureError::Missing.status_code(), StatusCode::UNAUTHORIZED);
}

#[test]
fn cavage_post_must_cover_target_host_date_and_digest() {
    let cases = [
        ("(request-target) host date content-type", "digest"),
        ("host date digest content-type", "(request-target)"),
        ("(request-target) date digest content-type", "host"),
        ("(request-target) host digest content-type", "date or (created)"),
    ];
    for (headers, missing) in cases {
        let mut req = signed_post(at(0));
        req.edit_signature(|s| s.replace("(request-target) host date digest content-type", headers));
        assert_eq!(check(&req, 0), Err(SignatureError::NotCovered(missing)), "headers={headers}");
    }
}

#[test]
fn cavage_get_must_cover_host() {
    let mut req = signed_get(at(0));
    req.edit_signature(|s| s.replace("(request-target) host date accept", "(request-target) date accept"));
    assert_eq!(check(&req, 0), Err(SignatureError::NotCovered("host")));
}

#[test]
fn cavage_garbage_base64_is_malformed() {
    let mut req = signed_post(at(0));
    req.edit_signature(|s| format!("{}signature=\"!!not*base64!!\"", s.split("signature=").next().unwrap_or_default()));
    let err = check(&req, 0).unwrap_err();
    assert!(matches!(err, SignatureError::Malformed { header: "Signature", .. }), "{err:?}");
    assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
}

#[test]
fn a_signature_made_with_another_key_is_bad() {
    let other = crate::crypto::generate_rsa_keys().unwrap();
    let parsed = signed_post(at(0)).parse(at(0)).unwrap();
    assert_eq!(parsed.verify(&PublicKey::from_pem(&other.public_pem).unwrap()), bad());
}

#[test]
fn an_oversize_signature_header_is_refused_unread() {
    let mut req = signed_post(at(0));
    req.edit_signature(|s| format!("{s},padding=\"{}\"", "x".repeat(9000)));
    assert_eq!(check(&req, 0), Err(SignatureError::TooLarge { header: "Signature", limit: 8192 }));
    assert_eq!(check(&req, 0).unwrap_err().status_code(), StatusCode::BAD_REQUEST);
}

#[test]
fn cavage_key_id_must_be_a_url() {
    let mut req = signed_post(at(0));
    req.edit_signature(|s| s.replace(KEY_ID, "acct:alice@remote.example"));
    assert!(matches!(check(&req, 0), Err(SignatureError::Malformed { .. })));
}

#[test]
fn cavage_covered_header_absent_from_the_request_is_refused() {
    let mut req = signed_post(at(0));
    req.headers.remove("content-type");
    assert_eq!(check(&req, 0), Err(SignatureError::CoveredHeaderMissing("content-type".into())));
}

#[test]
fn the_key_owner_is_the_key_id_without_fragment() {
    assert_eq!(key_owner(&url::Url::parse(KEY_ID).unwrap()).as_str(), "https://remote.example/users/alice");
}

// ---- RFC 9421 -----------------------------------------------------------------------------

#[test]
fn rfc9421_untouched_post_passes_and_is_preferred_over_cavage() {
    let req = rfc9421_post(at(0), MASTODON_POST, "");
    let parsed = req.check(at(0)).unwrap();
    assert_eq!(parsed.scheme(), Scheme::Rfc9421);
}

#[test]
fn rfc9421_changed_body_is_a_content_digest_mismatch() {
    let mut req = rfc9421_post(at(0), MASTODON_POST, "");
    req.body = b"{}".to_vec();
    assert_eq!(check(&req, 0), Err(SignatureError::DigestMismatch { header: "Content-Digest" }));
}

#[test]
fn rfc9421_changed_target_or_method_breaks_the_signature() {
    let tampers: [fn(&mut Req); 3] = [
        |r| r.authority = "other.example".into(),
        |r| r.target = "/users/carol/inbox".into(),
        |r| r.method = Method::PUT,
    ];
    for tamper in tampers {
        let mut req = rfc9421_post(at(0), MASTODON_POST, "");
        tamper(&mut req);
        assert_eq!(check(&req, 0), bad());
    }
}

#[test]
fn rfc9421_expires_plus_an_hour_is_the_deadline() {
    let expires = format!(";expires={}", T0 + 10 * 60);
    let req = rfc9421_post(at(0), MASTODON_POST, &expires);
    assert_eq!(check(&req, 70 * MIN), Ok(()));
    assert_eq!(check(&req, 70 * MIN + 1), Err(SignatureError::Expired));
}

#[test]
fn rfc9421_without_expires_lives_65_minutes() {
    let req = rfc9421_post(at(0), MASTODON_POST, "");
    assert_eq!(check(&req, 65 * MIN), Ok(()));
    assert_eq!(check(&req, 65 * MIN + 1), Err(SignatureError::Expired));
}

#[test]
fn rfc9421_lifetime_is_capped_at_created_plus_twelve_hours() {
    let expires = format!(";expires={}", T0 + 48 * 3600);
    let req = rfc9421_post(at(0), MASTODON_POST, &expires);
    assert_eq!(check(&req, 13 * HOUR), Ok(()));
    assert_eq!(check(&req, 13 * HOUR + 1), Err(SignatureError::Expired));
}

#[test]
fn rfc9421_created_in_the_future_is_refused() {
    let req = rfc9421_post(at(2 * HOUR), MASTODON_POST, "");
    assert_eq!(check(&req, 0), Err(SignatureError::FromTheFuture));
}

#[test]
fn rfc9421_unknown_algorithm_is_refused() {
    let req = rfc9421_post(at(0), MASTODON_POST, r#";alg="hmac-sha256""#);
    assert_eq!(check(&req, 0), Err(SignatureError::UnsupportedAlgorithm("hmac-sha256".into())));
}

#[test]
fn rfc9421_post_must_cover_content_digest_and_target() {
    let req = rfc9421_post(at(0), r#""@method" "@target-uri""#, "");
    assert_eq!(check(&req, 0), Err(SignatureError::NotCovered("content-digest")));
    let req = rfc9421_post(at(0), r#""@authority" "content-digest""#, "");
    assert_eq!(check(&req, 0), Err(SignatureError::NotCovered("@method and @target-uri (or @path)")));
    let req = rfc9421_post(at(0), r#""@method" "@path" "@authority" "content-digest""#, "");
    assert_eq!(check(&req, 0), Ok(()), "@path with @authority is enough");
}

#[test]
fn rfc9421_get_must_cover_the_authority() {
    let mut req = Req::new(Method::GET, OUTBOX_PAGE, b"");
    sign_rfc9421(&mut req, &format!(r#"("@method" "@path");created={T0};keyid="{KEY_ID}""#));
    assert_eq!(check(&req, 0), Err(SignatureError::NotCovered("@authority or @target-uri")));
    sign_rfc9421(&mut req, &format!(r#"("@method" "@target-uri");created={T0};keyid="{KEY_ID}""#));
    assert_eq!(check(&req, 0), Ok(()));
}

#[test]
fn rfc9421_needs_created_or_a_covered_date() {
    let mut req = rfc9421_post(at(0), MASTODON_POST, "");
    sign_rfc9421(&mut req, &format!(r#"({MASTODON_POST});keyid="{KEY_ID}""#));
    assert_eq!(check(&req, 0), Err(SignatureError::NotCovered("date or created")));
    sign_rfc9421(&mut req, &format!(r#"({MASTODON_POST} "date");keyid="{KEY_ID}""#));
    assert_eq!(check(&req, 0), Ok(()), "a covered Date stands in for created");
}

#[test]
fn rfc9421_unsupported_or_duplicate_components_are_refused() {
    let req = rfc9421_post(at(0), &format!(r#"{MASTODON_POST} "@query-param";name="x""#), "");
    assert_eq!(check(&req, 0), Err(SignatureError::UnsupportedComponent("@query-param;name".into())));
    let req = rfc9421_post(at(0), &format!(r#"{MASTODON_POST} "@status""#), "");
    assert_eq!(check(&req, 0), Err(SignatureError::UnsupportedComponent("@status".into())));
    let req = rfc9421_post(at(0), &format!(r#"{MASTODON_POST} "@method""#), "");
    assert!(matches!(check(&req, 0), Err(SignatureError::Malformed { header: "Signature-Input", .. })));
}

#[test]
fn rfc9421_garbage_signature_is_malformed() {
    let mut req = rfc9421_post(at(0), MASTODON_POST, "");
    req.set("signature", "sig1=:!!not*base64!!:");
    assert!(matches!(check(&req, 0), Err(SignatureError::Malformed { header: "Signature", .. })));
    req.set("signature", "other=:AAAA:");
    assert!(matches!(check(&req, 0), Err(SignatureError::Malformed { header: "Signature", .. })));
}

#[test]
fn rfc9421_covered_header_absent_from_the_request_is_refused() {
    let mut req = rfc9421_post(at(0), &format!(r#"{MASTODON_POST} "content-type""#), "");
    req.headers.remove("content-type");
    assert_eq!(check(&req, 0), Err(SignatureError::CoveredHeaderMissing("content-type".into())));
}

#[test]
fn rfc9421_a_bad_first_signature_does_not_hide_a_good_second_one() {
    let mut req = rfc9421_post(at(0), MASTODON_POST, "");
    let input = req.header("signature-input").replacen("sig1=", "sig2=", 1);
    let signature = req.header("signature").replacen("sig1=", "sig2=", 1);
    req.set("signature-input", &format!(r#"sig1=("@method");created={T0};keyid="{KEY_ID}", {input}"#));
    req.set("signature", &format!("sig1=:AAAA:, {signature}"));
    assert_eq!(check(&req, 0), Ok(()));
}

#[test]
fn rfc9421_with_another_key_is_bad() {
    let other = crate::crypto::generate_rsa_keys().unwrap();
    let parsed = rfc9421_post(at(0), MASTODON_POST, "").parse(at(0)).unwrap();
    assert_eq!(parsed.verify(&PublicKey::from_pem(&other.public_pem).unwrap()), bad());
}
