//! What real peers send, as they send it: actors, notes and activities in the shapes
//! Mastodon, GoToSocial, Misskey, Lemmy, Pleroma/Akkoma and Fedify produce (written here
//! from their documentation, not copied), in `fixtures/*.json`.
//!
//! Hosts and keys are placeholders, filled in for the test that loads them:
//! `https://PEER` (the peer's origin), `PEERHOST` (its `host[:port]`), `https://OURS` and
//! `OURSHOST` (the instance under test), `OUR_POST` (the post of ours a reply answers) and
//! `PUBLIC_KEY_PEM` (the actor's public key).

use serde_json::Value;
use url::Url;

/// The values put in place of a fixture's placeholders.
pub struct Fill<'a> {
    /// The peer's origin, such as `http://127.0.0.4:41234`.
    pub peer: &'a str,
    /// The instance's origin.
    pub ours: &'a str,
    /// The id of the post of ours that replies answer.
    pub our_post: &'a str,
    /// The actor's public key (PEM).
    pub public_key_pem: &'a str,
}

fn host_of(origin: &str) -> String {
    let url = Url::parse(origin).unwrap();
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap()),
        None => url.host_str().unwrap().to_owned(),
    }
}

/// The fixture `name` (`fixtures/{name}.json`) with its placeholders filled in.
pub fn load(name: &str, fill: &Fill) -> Value {
    let path = format!("{}/tests/it/support/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // The PEM goes inside a JSON string: its newlines are escaped as JSON escapes them.
    let pem = serde_json::to_string(fill.public_key_pem).unwrap();
    let text = text
        .replace("PEERHOST", &host_of(fill.peer))
        .replace("OURSHOST", &host_of(fill.ours))
        .replace("https://PEER", fill.peer)
        .replace("https://OURS", fill.ours)
        .replace("OUR_POST", fill.our_post)
        .replace("PUBLIC_KEY_PEM", pem.trim_matches('"'));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
