//! Signed POSTs, built once: the body signed with an actor's key exactly as a peer signs it
//! (`Digest`, `Date`, `Signature` over the request target and host), then sent as is or
//! after a test has tampered with it.

use std::time::{Duration, SystemTime};

use openhouse::{
    crypto::generate_rsa_keys,
    federation::signatures::{SigningKey, sign_request},
};
use reqwest::header::{CONTENT_TYPE, HOST, HeaderMap, HeaderValue};
use url::Url;

/// A fresh RSA key for the actor `actor_id`, named `{actor_id}#main-key`; the signing key
/// and the public key's PEM.
pub fn new_key(actor_id: &str) -> (SigningKey, String) {
    key_named(&format!("{actor_id}#main-key"))
}

/// A fresh RSA key whose id is `key_id` (peers name them differently: `#main-key`,
/// `/main-key`…); the signing key and the public key's PEM.
pub fn key_named(key_id: &str) -> (SigningKey, String) {
    let keys = generate_rsa_keys().unwrap();
    (SigningKey::from_pkcs8_pem(Url::parse(key_id).unwrap(), &keys.private_pem).unwrap(), keys.public_pem)
}

/// The headers of an `application/activity+json` POST of `body` to `url`, signed with
/// `key` as of `at`. The `Host` header is left to the client (it is signed as `url`'s).
pub fn signed_headers(key: &SigningKey, url: &Url, body: &[u8], at: SystemTime) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/activity+json"));
    sign_request(key, &reqwest::Method::POST, url, &mut headers, Some(body), at).unwrap();
    headers.remove(HOST);
    headers
}

/// Signs `body` for `url` with `key` as of `at`, lets `tamper` change the headers or the
/// body afterwards, and POSTs it; the response.
pub async fn post_signed(
    client: &reqwest::Client,
    key: &SigningKey,
    url: &Url,
    body: &[u8],
    at: SystemTime,
    tamper: impl FnOnce(&mut HeaderMap, &mut Vec<u8>),
) -> reqwest::Response {
    let mut headers = signed_headers(key, url, body, at);
    let mut body = body.to_vec();
    tamper(&mut headers, &mut body);
    client.post(url.clone()).headers(headers).body(body).send().await.unwrap()
}

/// A client for signed POSTs: some hostile cases make the server take its time (a slow
/// actor document), so the client waits longer than the server's own bounds.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}
