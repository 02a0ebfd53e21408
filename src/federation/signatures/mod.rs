//! HTTP signatures: signing what we send and checking what we receive.
//!
//! Every federated request is authenticated by an HTTP signature (`FEDERATION.md` §3).
//! We *send* draft-cavage signatures exactly as Mastodon sends them, and *accept* both
//! draft-cavage and RFC 9421 (Mastodon verifies RFC 9421 since 4.5). Why this is our own
//! code on aws-lc-rs rather than a crate: `docs/adr/0004-http-signatures.md`.
//!
//! Verification is split in two so that the inbox can refuse junk before it touches the
//! database or the network (I2):
//!
//! ```text
//!   parse_request(&parts, now)      no key, no I/O: header syntax, algorithm, coverage (I3),
//!        │                          body digest (I4), time window (I5); builds the exact
//!        ▼                          signing string
//!   ParsedSignature { key_id, … }
//!        │   the inbox finds the key for key_id (KeyCache → database → fetch),
//!        │   checks that its owner is the activity's actor (I6)
//!        ▼
//!   parsed.verify(&public_key)      one RSA/Ed25519 verification
//!        │   on failure the inbox may re-fetch the key once (I7) and verify again
//! ```
//!
//! Everything here is pure: the clock is a parameter, nothing panics on any input, and
//! every header we parse is bounded ([`MAX_HEADER_BYTES`]).
//!
//! - `sign`: [`SigningKey`] and [`sign_request`] (outgoing draft-cavage).
//! - `cavage`, `rfc9421`: parsing the two incoming formats into a signing string.
//! - `digest`: `Digest` and `Content-Digest` of the body.
//! - `policy`: what a signature must cover, and for how long it is valid.
//! - `keys`: PEM public keys and the bounded [`KeyCache`].
//! - `error`: [`SignatureError`] and how it maps to 400 or 401.

mod cavage;
mod digest;
mod error;
mod keys;
mod policy;
mod rfc9421;
mod sign;
#[cfg(test)]
mod tests;

use std::{fmt, time::SystemTime};

use http::{HeaderMap, HeaderName, Method};
use url::Url;

pub use digest::sha256_digest_header;
pub use error::{KeyError, SignError, SignatureError};
pub use keys::{KeyCache, KeyKind, PublicKey};
pub use policy::{CLOCK_SKEW, DEFAULT_LIFETIME, MAX_LIFETIME};
pub use sign::{SigningKey, sign_request, sign_with_digest};

/// Largest value (all field lines together) we read of any header we parse: `Signature`,
/// `Signature-Input`, `Digest`, `Content-Digest`, `Date`. Larger is refused unread.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// The `Signature-Input` header of RFC 9421.
pub const SIGNATURE_INPUT: HeaderName = HeaderName::from_static("signature-input");
/// The `Signature` header (draft-cavage parameters, or the RFC 9421 dictionary).
pub const SIGNATURE: HeaderName = HeaderName::from_static("signature");
/// The `Digest` header (RFC 3230), what draft-cavage signers cover.
pub const DIGEST: HeaderName = HeaderName::from_static("digest");
/// The `Content-Digest` header (RFC 9530), what RFC 9421 signers cover.
pub const CONTENT_DIGEST: HeaderName = HeaderName::from_static("content-digest");

/// Which wire format a request was signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// draft-cavage-http-signatures-12: one `Signature` header with `keyId`, `headers`, ….
    Cavage,
    /// RFC 9421 HTTP Message Signatures: `Signature-Input` plus a `Signature` dictionary.
    Rfc9421,
}

/// The signature algorithm a signature names, or that it leaves to the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: cavage `rsa-sha256`, RFC 9421 `rsa-v1_5-sha256`.
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-512: RFC 9421 `rsa-pss-sha512`.
    RsaPssSha512,
    /// Ed25519: RFC 9421 `ed25519`.
    Ed25519,
    /// Decided by the key: cavage `hs2019` or no `algorithm`, RFC 9421 without `alg`. An RSA
    /// key means PKCS#1 v1.5 SHA-256 (what Mastodon signs), else PSS SHA-512; an Ed25519 key
    /// means Ed25519.
    FromKey,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RsaPkcs1Sha256 => "rsa-v1_5-sha256",
            Self::RsaPssSha512 => "rsa-pss-sha512",
            Self::Ed25519 => "ed25519",
            Self::FromKey => "hs2019",
        })
    }
}

/// The parts of an incoming request that a signature can cover. Framework-agnostic: the
/// inbox handler fills it from whatever it received.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The scheme the sender used, normally `"https"` (from configuration: behind a reverse
    /// proxy the connection itself may be plain HTTP). Only RFC 9421 `@target-uri` and
    /// `@scheme` use it.
    pub scheme: &'a str,
    /// The authority the request was addressed to: host, and port when not the default.
    /// Pass the instance's configured public authority (a signature for another host then
    /// fails), or the `Host` header. Used for cavage `host` and RFC 9421 `@authority`.
    pub authority: &'a str,
    /// Path and query exactly as received, e.g. `/users/alice/inbox` or `/outbox?page=2`.
    pub path_and_query: &'a str,
    /// All request headers.
    pub headers: &'a HeaderMap,
    /// The raw body, already bounded by the caller (I1); empty for a GET.
    pub body: &'a [u8],
}

impl RequestParts<'_> {
    /// The path and query, `/` when empty.
    fn target(&self) -> &str {
        if self.path_and_query.is_empty() { "/" } else { self.path_and_query }
    }
}

/// What one signature scheme extracted from a request, before the policy checks.
#[derive(Debug)]
struct Candidate {
    scheme: Scheme,
    algorithm: Algorithm,
    key_id: String,
    coverage: policy::Coverage,
    /// When the signature was made: the covered `created` parameter, else the covered `Date`.
    created: Option<SystemTime>,
    /// The covered `expires` parameter, if any.
    expires: Option<SystemTime>,
    /// The exact bytes that were signed.
    signing_string: Vec<u8>,
    /// The decoded signature.
    signature: Vec<u8>,
}

/// A signature that passed every check that needs no key (I2–I5). Call
/// [`ParsedSignature::verify`] with the key of [`ParsedSignature::key_id`] to finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedSignature {
    scheme: Scheme,
    algorithm: Algorithm,
    key_id: Url,
    created: SystemTime,
    signing_string: Vec<u8>,
    signature: Vec<u8>,
}

impl ParsedSignature {
    /// The key that made the signature, as sent (`https://host/users/alice#main-key`).
    pub fn key_id(&self) -> &Url {
        &self.key_id
    }

    /// The key id without its fragment: the actor that conventionally owns the key. The
    /// inbox must still check the key document's `owner` (I6).
    pub fn key_owner(&self) -> Url {
        key_owner(&self.key_id)
    }

    /// The wire format used.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The algorithm named by the signature.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// When the signature says it was made (`created`, else `Date`).
    pub fn created(&self) -> SystemTime {
        self.created
    }

    /// The exact bytes that were signed: the cavage signing string or the RFC 9421
    /// signature base.
    pub fn signing_string(&self) -> &[u8] {
        &self.signing_string
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Checks the signature with the sender's public key. Errors are
    /// [`SignatureError::KeyMismatch`] (wrong kind of key for the algorithm) or
    /// [`SignatureError::BadSignature`].
    pub fn verify(&self, key: &PublicKey) -> Result<(), SignatureError> {
        key.verify(self.algorithm, &self.signing_string, &self.signature)
    }
}

/// The actor URL a key id conventionally belongs to: the key id without its fragment.
pub fn key_owner(key_id: &Url) -> Url {
    let mut owner = key_id.clone();
    owner.set_fragment(None);
    owner
}

/// Parses and checks the signature of an incoming request without its key (I2–I5).
///
/// RFC 9421 is used when a `Signature-Input` header is present (of several signatures, the
/// first that passes is taken), draft-cavage otherwise. Checks, in order: the headers are
/// present, bounded and parse; the algorithm is one we support; the signature covers what
/// the method demands (I3); it was made at most an hour in the future
/// and has not expired (I5); every covered header is present; the body matches the covered
/// `Digest`/`Content-Digest` (I4); the key id is an `http(s)` URL.
pub fn parse_request(parts: &RequestParts<'_>, now: SystemTime) -> Result<ParsedSignature, SignatureError> {
    if parts.headers.contains_key(&SIGNATURE_INPUT) {
        let mut first_error = None;
        for candidate in rfc9421::parse(parts)? {
            match candidate.and_then(|c| finish(c, parts, now)) {
                Ok(parsed) => return Ok(parsed),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        return Err(first_error.unwrap_or(SignatureError::Missing));
    }
    finish(cavage::parse(parts)?, parts, now)
}

/// Applies the policy to what a scheme extracted.
fn finish(c: Candidate, parts: &RequestParts<'_>, now: SystemTime) -> Result<ParsedSignature, SignatureError> {
    policy::check_coverage(c.scheme, parts.method, &c.coverage)?;
    let created = policy::check_time(c.created, c.expires, now)?;
    digest::check(&c.coverage, parts.headers, parts.body)?;
    let key_id = Url::parse(&c.key_id)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.has_host())
        .ok_or_else(|| SignatureError::Malformed {
            header: "Signature",
            reason: format!("the key id {:?} is not an http(s) URL", truncate(&c.key_id)),
        })?;
    Ok(ParsedSignature {
        scheme: c.scheme,
        algorithm: c.algorithm,
        key_id,
        created,
        signing_string: c.signing_string,
        signature: c.signature,
    })
}

/// Reads a header we parse as text: all field lines joined by `, `, bounded by
/// [`MAX_HEADER_BYTES`]. `Ok(None)` when absent.
fn header_text(
    headers: &HeaderMap,
    name: &HeaderName,
    display: &'static str,
) -> Result<Option<String>, SignatureError> {
    let mut out: Option<String> = None;
    for value in headers.get_all(name) {
        let text = value.to_str().map_err(|_| SignatureError::Malformed {
            header: display,
            reason: "contains bytes that are not visible ASCII".into(),
        })?;
        let joined = out.get_or_insert_with(String::new);
        let separator = if joined.is_empty() { "" } else { ", " };
        if joined.len() + separator.len() + text.len() > MAX_HEADER_BYTES {
            return Err(SignatureError::TooLarge { header: display, limit: MAX_HEADER_BYTES });
        }
        joined.push_str(separator);
        joined.push_str(text.trim());
    }
    Ok(out)
}

/// Shortens attacker-controlled text before it goes into an error message.
fn truncate(s: &str) -> String {
    const MAX: usize = 100;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
        None => s.to_owned(),
    }
}
