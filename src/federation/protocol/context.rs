//! JSON-LD `@context` values.

use serde_json::{Value, json};

/// ActivityStreams.
pub const ACTIVITYSTREAMS: &str = "https://www.w3.org/ns/activitystreams";
/// The public addressing collection.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
/// Keys (`publicKey`, `publicKeyPem`).
pub const SECURITY_V1: &str = "https://w3id.org/security/v1";

/// The context for actor documents: ActivityStreams, security, and the extension terms we
/// use (Mastodon's `toot:` terms and schema.org's `PropertyValue`).
pub fn actor_context() -> Value {
    json!([
        ACTIVITYSTREAMS,
        SECURITY_V1,
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value"
        }
    ])
}

/// The context for Notes and the activities carrying them: ActivityStreams plus the terms
/// Mastodon reads (`sensitive`, `Hashtag`).
pub fn note_context() -> Value {
    json!([
        ACTIVITYSTREAMS,
        {
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#"
        }
    ])
}
