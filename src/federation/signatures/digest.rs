//! Body digests: `Digest` (RFC 3230, what draft-cavage signers send) and `Content-Digest`
//! (RFC 9530, what RFC 9421 signers send).
//!
//! A signature covers the digest header, not the body; only recomputing the hash of the
//! raw body ties the body to the signature (I4). We check every digest header the signature
//! covers, accept SHA-256 and SHA-512 and ignore algorithms we do not know, but at least one
//! known algorithm must be offered and every known one must match.

use aws_lc_rs::digest::{self, SHA256, SHA512};
use base64::{Engine, engine::general_purpose::STANDARD};
use http::HeaderMap;
use sfv::{BareItem, Dictionary, ListEntry, Parser};

use super::{CONTENT_DIGEST, DIGEST, SignatureError, header_text, policy::Coverage};

/// The `Digest` value for a body: `SHA-256=<base64>`, what Mastodon sends and checks.
pub fn sha256_digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(digest::digest(&SHA256, body)))
}

/// The hash algorithms we check.
#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha512,
}

impl Hash {
    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha-256" => Some(Self::Sha256),
            "sha-512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn matches(self, body: &[u8], expected: &[u8]) -> bool {
        let algorithm = match self {
            Self::Sha256 => &SHA256,
            Self::Sha512 => &SHA512,
        };
        digest::digest(algorithm, body).as_ref() == expected
    }
}

/// What a digest header offers: per entry, `None` for an algorithm we do not know, else the
/// algorithm and the decoded digest (`None` if it is not base64).
type Offers = Vec<Option<(Hash, Option<Vec<u8>>)>>;

/// Checks the body against every covered digest header (I4).
pub(super) fn check(coverage: &Coverage, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    if coverage.digest {
        let value =
            header_text(headers, &DIGEST, "Digest")?.ok_or(SignatureError::CoveredHeaderMissing("digest".into()))?;
        check_values(parse_digest(&value), "Digest", body)?;
    }
    if coverage.content_digest {
        let value = header_text(headers, &CONTENT_DIGEST, "Content-Digest")?
            .ok_or(SignatureError::CoveredHeaderMissing("content-digest".into()))?;
        check_values(parse_content_digest(&value)?, "Content-Digest", body)?;
    }
    Ok(())
}

/// Checks a list of (algorithm, decoded digest); entries with an unknown algorithm are `None`.
fn check_values(values: Offers, header: &'static str, body: &[u8]) -> Result<(), SignatureError> {
    let mut known = 0usize;
    for (hash, expected) in values.into_iter().flatten() {
        known += 1;
        let Some(expected) = expected else {
            return Err(SignatureError::Malformed { header, reason: "a digest value is not base64".into() });
        };
        if !hash.matches(body, &expected) {
            return Err(SignatureError::DigestMismatch { header });
        }
    }
    if known == 0 {
        return Err(SignatureError::DigestUnsupported { header });
    }
    Ok(())
}

/// Parses `Digest: SHA-256=<base64>, SHA-512=<base64>` (algorithm names case-insensitive).
fn parse_digest(value: &str) -> Offers {
    value
        .split(',')
        .take(8)
        .map(|entry| {
            let (name, b64) = entry.trim().split_once('=')?;
            let hash = Hash::from_name(name.trim())?;
            Some((hash, STANDARD.decode(b64.trim()).ok()))
        })
        .collect()
}

/// Parses `Content-Digest: sha-256=:<base64>:, sha-512=:<base64>:` (a structured dictionary).
fn parse_content_digest(value: &str) -> Result<Offers, SignatureError> {
    let dict: Dictionary = Parser::new(value)
        .parse()
        .map_err(|e| SignatureError::Malformed { header: "Content-Digest", reason: e.to_string() })?;
    Ok(dict
        .iter()
        .take(8)
        .map(|(name, entry)| {
            let hash = Hash::from_name(name.as_str())?;
            let bytes = match entry {
                ListEntry::Item(item) => match &item.bare_item {
                    BareItem::ByteSequence(bytes) => Some(bytes.clone()),
                    _ => None,
                },
                ListEntry::InnerList(_) => None,
            };
            Some((hash, bytes))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use http::HeaderValue;

    use super::*;

    const BODY: &[u8] = br#"{"hello": "world"}"#;
    /// From RFC 9530 / RFC 9421 B.2: SHA-256 and SHA-512 of `{"hello": "world"}`.
    const SHA256_B64: &str = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=";
    const SHA512_B64: &str = "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==";

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    fn cov(digest: bool, content_digest: bool) -> Coverage {
        Coverage { digest, content_digest, ..Coverage::default() }
    }

    #[test]
    fn our_digest_header_is_sha256_base64() {
        assert_eq!(sha256_digest_header(BODY), format!("SHA-256={SHA256_B64}"));
    }

    #[test]
    fn digest_headers_are_checked_against_the_body() {
        let ok = |name: http::HeaderName, v: &str| {
            check(&cov(name == DIGEST, name == CONTENT_DIGEST), &headers(name, v), BODY)
        };
        assert_eq!(ok(DIGEST, &format!("SHA-256={SHA256_B64}")), Ok(()));
        assert_eq!(ok(DIGEST, &format!("sha-512={SHA512_B64}, MD5=xyz")), Ok(()));
        assert_eq!(ok(CONTENT_DIGEST, &format!("sha-512=:{SHA512_B64}:")), Ok(()));
        assert_eq!(ok(CONTENT_DIGEST, &format!("sha-256=:{SHA256_B64}:, md5=:AAAA:")), Ok(()));
        assert_eq!(ok(DIGEST, "SHA-256=AAAA"), Err(SignatureError::DigestMismatch { header: "Digest" }));
        assert_eq!(ok(DIGEST, "MD5=AAAA"), Err(SignatureError::DigestUnsupported { header: "Digest" }));
        assert_eq!(
            ok(CONTENT_DIGEST, &format!("sha-256=:{SHA512_B64}:")),
            Err(SignatureError::DigestMismatch { header: "Content-Digest" })
        );
        assert!(matches!(ok(CONTENT_DIGEST, "sha-256=nope"), Err(SignatureError::Malformed { .. })));
        assert!(matches!(ok(DIGEST, "SHA-256=!!!"), Err(SignatureError::Malformed { .. })));
    }

    #[test]
    fn an_uncovered_digest_header_is_not_consulted_and_a_covered_absent_one_is_an_error() {
        assert_eq!(check(&cov(false, false), &headers(DIGEST, "SHA-256=AAAA"), BODY), Ok(()));
        assert_eq!(
            check(&cov(true, false), &HeaderMap::new(), BODY),
            Err(SignatureError::CoveredHeaderMissing("digest".into()))
        );
    }
}
