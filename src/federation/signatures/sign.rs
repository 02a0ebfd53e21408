//! Signing outgoing requests, the way Mastodon signs them.
//!
//! Every delivery attempt and every authorized fetch is signed (`FEDERATION.md` §3), so
//! signing sits on the floor of outbound throughput: one RSA-2048 PKCS#1 v1.5 signature
//! per request, the costliest step of a delivery. We emit draft-cavage `rsa-sha256`, which every
//! fediverse server verifies: `(request-target) host date digest content-type` for a body,
//! `(request-target) host date accept` for a GET.

use std::{fmt, time::SystemTime};

use aws_lc_rs::{rand::SystemRandom, rsa::KeyPair, signature::RSA_PKCS1_SHA256};
use base64::{Engine, engine::general_purpose::STANDARD};
use http::{
    HeaderMap, HeaderValue, Method,
    header::{ACCEPT, CONTENT_TYPE, DATE, HOST},
};
use url::Url;

use super::{
    DIGEST, KeyError, SIGNATURE, SignError, cavage::signing_string, digest::sha256_digest_header, keys::pem_block,
};

/// An actor's private key with the id under which its public half is published.
pub struct SigningKey {
    key_id: Url,
    pair: KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("key_id", &self.key_id.as_str()).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads an RSA private key: PKCS#8 `PRIVATE KEY` PEM as `crate::crypto` writes it (or
    /// PKCS#1 `RSA PRIVATE KEY`), 2048 to 8192 bits. `key_id` is the public key's id,
    /// `<actor>#main-key`.
    pub fn from_pkcs8_pem(key_id: Url, pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_block(pem)?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => KeyPair::from_der(&der),
            _ => return Err(KeyError::UnsupportedLabel(label)),
        }
        .map_err(|_| KeyError::Rejected("not an RSA private key"))?;
        if !(256..=1024).contains(&pair.public_modulus_len()) {
            return Err(KeyError::Rejected("RSA keys must be 2048 to 8192 bits"));
        }
        // Our own parser reads `\` and `"` as quoting; a URL never needs them unescaped.
        if key_id.as_str().contains(['"', '\\']) {
            return Err(KeyError::Rejected("the key id contains a quote or backslash"));
        }
        Ok(Self { key_id, pair })
    }

    /// The id of the public key, what `keyId` carries.
    pub fn key_id(&self) -> &Url {
        &self.key_id
    }

    /// Signs raw bytes with RSASSA-PKCS1-v1_5 SHA-256.
    pub(super) fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .map_err(|_| SignError::Crypto)?;
        Ok(signature)
    }
}

/// Signs a request in place: sets `Host`, `Date` (from `now`), for a body `Digest:
/// SHA-256=…`, and the draft-cavage `Signature` header covering
/// `(request-target) host date digest` plus `content-type` (with a body) or `accept`
/// (without) when the caller set them. Set those headers before calling.
pub fn sign_request(
    key: &SigningKey,
    method: &Method,
    url: &Url,
    headers: &mut HeaderMap,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<(), SignError> {
    let digest = body.map(sha256_digest_header);
    sign_with_digest(key, method, url, headers, digest.as_deref(), now)
}

/// [`sign_request`] for a body whose `Digest` header value (`SHA-256=…`, from
/// [`sha256_digest_header`]) was computed once: a fan-out sends one body to many inboxes.
pub fn sign_with_digest(
    key: &SigningKey,
    method: &Method,
    url: &Url,
    headers: &mut HeaderMap,
    digest: Option<&str>,
    now: SystemTime,
) -> Result<(), SignError> {
    let host = url.host_str().ok_or_else(|| SignError::NoHost(url.to_string()))?;
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };

    headers.insert(HOST, header_value(&authority, "Host")?);
    headers.insert(DATE, header_value(&httpdate::fmt_http_date(now), "Date")?);
    let mut names = vec!["(request-target)".to_owned(), "host".to_owned(), "date".to_owned()];
    match digest {
        Some(digest) => {
            headers.insert(DIGEST, header_value(digest, "Digest")?);
            names.push("digest".to_owned());
            if headers.contains_key(CONTENT_TYPE) {
                names.push("content-type".to_owned());
            }
        }
        None => {
            if headers.contains_key(ACCEPT) {
                names.push("accept".to_owned());
            }
        }
    }

    let message = signing_string(&names, method, &target, &authority, headers, None, None)
        .map_err(|_| SignError::InvalidHeader("covered"))?;
    let signature = STANDARD.encode(key.sign_bytes(&message)?);
    let value = format!(
        r#"keyId="{}",algorithm="rsa-sha256",headers="{}",signature="{signature}""#,
        key.key_id,
        names.join(" ")
    );
    headers.insert(SIGNATURE, header_value(&value, "Signature")?);
    Ok(())
}

fn header_value(value: &str, name: &'static str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(value).map_err(|_| SignError::InvalidHeader(name))
}
