//! Actors of other servers: reading their documents safely (FEDERATION.md §5 F2, F7; §4 I8)
//! into what we store.

use serde_json::Value;
use url::Url;

use crate::{
    federation::protocol::lenient::{bool_of, id_of, items_of, string_of, truncate, type_of},
    text::sanitize_remote_html_at,
};

/// Longest display name kept (Mastodon's cap); longer ones are cut, as they are only shown.
pub const MAX_NAME_CHARS: usize = 2048;
/// Longest `preferredUsername` accepted. A username is half of a handle, an identity: one
/// over the cap is refused, never cut (cut, it could name someone else).
pub const MAX_USERNAME_CHARS: usize = 255;
/// Longest summary read, before sanitizing.
pub const MAX_SUMMARY_BYTES: usize = 20_000;
/// Most `alsoKnownAs` aliases kept.
pub const MAX_ALIASES: usize = 20;
/// Most public keys looked at.
pub const MAX_PUBLIC_KEYS: usize = 10;
/// Longest PEM accepted (an RSA-8192 SPKI PEM is under 1.5 kB).
pub const MAX_PEM_BYTES: usize = 10_000;

/// Actor types we accept from other servers.
const ACTOR_TYPES: &[&str] = &["Person", "Service", "Organization", "Group", "Application"];

/// A remote actor document, checked and capped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteActorDoc {
    pub ap_id: Url,
    pub ap_type: String,
    pub username: String,
    /// `host[:port]` of the id.
    pub domain: String,
    pub display_name: String,
    /// Sanitized HTML.
    pub summary_html: String,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    pub outbox: Option<Url>,
    pub followers: Option<Url>,
    pub profile_url: Option<Url>,
    pub icon: Option<Url>,
    pub image: Option<Url>,
    pub public_key_id: String,
    pub public_key_pem: String,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    /// `alsoKnownAs`: other ids the actor says are also its own (capped; for `Move`).
    pub also_known_as: Vec<Url>,
    /// `movedTo`: where the actor says it moved.
    pub moved_to: Option<Url>,
}

/// Why a document was not accepted as an actor.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ActorRejected {
    /// Not an object, or a type we do not treat as an actor.
    #[error("not an actor document")]
    NotAnActor,
    /// A required field is absent or unusable.
    #[error("actor document lacks a usable {0}")]
    Missing(&'static str),
    /// Its id is not the URL it was fetched from (F2), or a URL points at another host (I8).
    #[error("actor document {0}")]
    WrongOrigin(&'static str),
    /// `preferredUsername` is too long or holds characters a handle cannot (see [`valid_username`]).
    #[error("actor document has an unusable preferredUsername")]
    BadUsername,
}

/// Whether a remote `preferredUsername` can be the user part of a handle: 1 to
/// [`MAX_USERNAME_CHARS`] characters, each a letter or digit (any script), `_`, `.` or `-`.
/// Liberal enough for every server we know (Mastodon: `[a-z0-9_]`, others add `.` and `-`,
/// some allow non-Latin letters); never `@`, `/`, `:`, whitespace, control characters or
/// markup, which would let one handle read as another or as something else.
pub fn valid_username(name: &str) -> bool {
    let mut count = 0;
    for c in name.chars() {
        count += 1;
        if count > MAX_USERNAME_CHARS || !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return false;
        }
    }
    count > 0
}

fn authority(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// Whether two URLs are on the same origin host (scheme, host and port).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// Reads an actor document fetched from `fetched_from` (the final URL after redirects).
pub fn parse_actor(doc: &Value, fetched_from: &Url) -> Result<RemoteActorDoc, ActorRejected> {
    if !doc.is_object() {
        return Err(ActorRejected::NotAnActor);
    }
    let ap_type = type_of(doc).filter(|t| ACTOR_TYPES.contains(&t.as_str())).ok_or(ActorRejected::NotAnActor)?;
    let ap_id = doc.get("id").and_then(id_of).ok_or(ActorRejected::Missing("id"))?;
    if ap_id != *fetched_from {
        return Err(ActorRejected::WrongOrigin("id differs from the URL it was fetched from"));
    }
    let same_host = |field: &'static str| -> Result<Option<Url>, ActorRejected> {
        match doc.get(field).and_then(id_of) {
            Some(url) if !same_origin(&url, &ap_id) => Err(ActorRejected::WrongOrigin("points to another host")),
            other => Ok(other),
        }
    };
    // Read one character past the cap, so that an over-long name is seen, never cut.
    let username = doc
        .get("preferredUsername")
        .and_then(|v| string_of(v, MAX_USERNAME_CHARS + 1))
        .ok_or(ActorRejected::Missing("preferredUsername"))?;
    if !valid_username(&username) {
        return Err(ActorRejected::BadUsername);
    }
    let inbox = same_host("inbox")?.ok_or(ActorRejected::Missing("inbox"))?;
    let shared_inbox = match doc.get("endpoints").and_then(|e| e.get("sharedInbox")).and_then(id_of) {
        Some(url) if !same_origin(&url, &ap_id) => return Err(ActorRejected::WrongOrigin("points to another host")),
        other => other,
    };
    let key = items_of(doc.get("publicKey").unwrap_or(&Value::Null), MAX_PUBLIC_KEYS)
        .into_iter()
        .find_map(|k| {
            let id = k.get("id").and_then(id_of)?;
            let owner = k.get("owner").and_then(id_of)?;
            let pem = k.get("publicKeyPem")?.as_str()?;
            (owner == ap_id && same_origin(&id, &ap_id) && pem.len() <= MAX_PEM_BYTES).then(|| (id, pem.to_owned()))
        })
        .ok_or(ActorRejected::Missing("publicKey"))?;
    let summary = doc.get("summary").and_then(|v| string_of(v, MAX_SUMMARY_BYTES)).unwrap_or_default();
    let image = |field: &str| {
        doc.get(field)
            .and_then(|v| items_of(v, 4).into_iter().find_map(|i| i.get("url").and_then(id_of).or_else(|| id_of(i))))
    };
    Ok(RemoteActorDoc {
        domain: authority(&ap_id),
        username,
        display_name: doc.get("name").and_then(|v| string_of(v, MAX_NAME_CHARS)).unwrap_or_default(),
        summary_html: sanitize_remote_html_at(&truncate(&summary, MAX_SUMMARY_BYTES), &ap_id),
        inbox,
        shared_inbox,
        outbox: same_host("outbox")?,
        followers: same_host("followers")?,
        profile_url: doc.get("url").and_then(id_of),
        icon: image("icon"),
        image: image("image"),
        public_key_id: key.0.to_string(),
        public_key_pem: key.1,
        manually_approves_followers: doc.get("manuallyApprovesFollowers").and_then(bool_of).unwrap_or(false),
        discoverable: doc.get("discoverable").and_then(bool_of).unwrap_or(false),
        also_known_as: items_of(doc.get("alsoKnownAs").unwrap_or(&Value::Null), MAX_ALIASES)
            .into_iter()
            .filter_map(id_of)
            .collect(),
        moved_to: doc.get("movedTo").and_then(id_of),
        ap_type,
        ap_id,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::type_complexity)]
    use serde_json::json;

    use super::*;

    fn mastodon_actor() -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": "https://mastodon.example/users/ada",
            "type": "Person",
            "preferredUsername": "ada",
            "name": "Ada <b>L</b>",
            "summary": "<p>Hi <script>alert(1)</script></p>",
            "url": "https://mastodon.example/@ada",
            "inbox": "https://mastodon.example/users/ada/inbox",
            "outbox": "https://mastodon.example/users/ada/outbox",
            "followers": "https://mastodon.example/users/ada/followers",
            "endpoints": { "sharedInbox": "https://mastodon.example/inbox" },
            "manuallyApprovesFollowers": false,
            "discoverable": true,
            "icon": { "type": "Image", "mediaType": "image/png", "url": "https://files.mastodon.example/a.png" },
            "publicKey": {
                "id": "https://mastodon.example/users/ada#main-key",
                "owner": "https://mastodon.example/users/ada",
                "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
            }
        })
    }

    fn url() -> Url {
        Url::parse("https://mastodon.example/users/ada").unwrap()
    }

    #[test]
    fn a_mastodon_actor_is_read_and_its_html_sanitized() {
        let a = parse_actor(&mastodon_actor(), &url()).unwrap();
        assert_eq!(a.username, "ada");
        assert_eq!(a.domain, "mastodon.example");
        assert_eq!(a.ap_type, "Person");
        assert_eq!(a.display_name, "Ada <b>L</b>", "plain text, escaped when shown");
        assert_eq!(a.summary_html, "<p>Hi </p>");
        assert_eq!(a.shared_inbox.unwrap().as_str(), "https://mastodon.example/inbox");
        assert_eq!(a.public_key_id, "https://mastodon.example/users/ada#main-key");
        assert_eq!(a.icon.unwrap().as_str(), "https://files.mastodon.example/a.png");
        assert!(a.discoverable);
    }

    #[test]
    fn relative_links_in_the_summary_point_at_the_actors_own_server() {
        let mut doc = mastodon_actor();
        doc["summary"] = json!("<p><a href=\"/about\">about</a> <a href=\"//evil.example/x\">x</a></p>");
        let html = parse_actor(&doc, &url()).unwrap().summary_html;
        assert!(html.contains("href=\"https://mastodon.example/about\""), "{html}");
        assert!(html.contains("href=\"https://evil.example/x\""), "scheme-relative: absolute now, {html}");
        assert!(!html.contains("href=\"/"), "{html}");
    }

    #[test]
    fn forged_and_malformed_actors_are_rejected() {
        let cases: Vec<(&str, Box<dyn Fn(&mut Value)>, ActorRejected)> = vec![
            (
                "id elsewhere",
                Box::new(|a| a["id"] = json!("https://evil.example/users/ada")),
                ActorRejected::WrongOrigin("id differs from the URL it was fetched from"),
            ),
            (
                "inbox elsewhere",
                Box::new(|a| a["inbox"] = json!("https://evil.example/inbox")),
                ActorRejected::WrongOrigin("points to another host"),
            ),
            (
                "shared inbox elsewhere",
                Box::new(|a| a["endpoints"]["sharedInbox"] = json!("https://evil.example/inbox")),
                ActorRejected::WrongOrigin("points to another host"),
            ),
            (
                "key of someone else",
                Box::new(|a| a["publicKey"]["owner"] = json!("https://mastodon.example/users/bob")),
                ActorRejected::Missing("publicKey"),
            ),
            (
                "key on another host",
                Box::new(|a| a["publicKey"]["id"] = json!("https://evil.example/k")),
                ActorRejected::Missing("publicKey"),
            ),
            (
                "no username",
                Box::new(|a| a["preferredUsername"] = json!(null)),
                ActorRejected::Missing("preferredUsername"),
            ),
            ("username with @", Box::new(|a| a["preferredUsername"] = json!("a@b")), ActorRejected::BadUsername),
            (
                "username over the cap",
                Box::new(|a| a["preferredUsername"] = json!("a".repeat(100_000))),
                ActorRejected::BadUsername,
            ),
            ("empty username", Box::new(|a| a["preferredUsername"] = json!("")), ActorRejected::BadUsername),
            ("not an actor", Box::new(|a| a["type"] = json!("Note")), ActorRejected::NotAnActor),
            ("no inbox", Box::new(|a| a["inbox"] = json!(42)), ActorRejected::Missing("inbox")),
            (
                "huge pem",
                Box::new(|a| a["publicKey"]["publicKeyPem"] = json!("x".repeat(20_000))),
                ActorRejected::Missing("publicKey"),
            ),
        ];
        for (name, mutate, want) in cases {
            let mut doc = mastodon_actor();
            mutate(&mut doc);
            assert_eq!(parse_actor(&doc, &url()), Err(want), "{name}");
        }
        assert_eq!(parse_actor(&json!([1, 2]), &url()), Err(ActorRejected::NotAnActor));
    }

    #[test]
    fn usernames_are_letters_digits_underscores_dots_and_dashes_of_any_script() {
        for ok in
            ["ada", "Ada_L", "ada.lovelace", "ada-l", "0", "Łukasz", "山田", "σοφία", "عائشة", "_", &"a".repeat(255)]
        {
            assert!(valid_username(ok), "{ok:?}");
            let mut doc = mastodon_actor();
            doc["preferredUsername"] = json!(ok);
            assert_eq!(parse_actor(&doc, &url()).unwrap().username, ok, "kept whole");
        }
        for bad in [
            "",
            " ",
            "a b",
            "a@b",
            "@a",
            "a/b",
            "a:b",
            "a\tb",
            "a\nb",
            "a\u{0}",
            "a\u{202e}b",
            "a\u{200b}b",
            "<b>",
            "a>b",
            "a%40b",
            "a#b",
            "a?b",
            "a+b",
            "a'b",
            "a\"b",
            "👀",
            &"a".repeat(256),
            &"a".repeat(100_000),
        ] {
            assert!(!valid_username(bad), "{bad:?}");
            let mut doc = mastodon_actor();
            doc["preferredUsername"] = json!(bad);
            assert_eq!(parse_actor(&doc, &url()), Err(ActorRejected::BadUsername), "{bad:?}");
        }
        // Not a string at all: missing.
        let mut doc = mastodon_actor();
        doc["preferredUsername"] = json!({ "a": 1 });
        assert_eq!(parse_actor(&doc, &url()), Err(ActorRejected::Missing("preferredUsername")));
        // An array's first string is read like any string field, and checked the same way.
        doc["preferredUsername"] = json!(["x".repeat(300), "ada"]);
        assert_eq!(parse_actor(&doc, &url()), Err(ActorRejected::BadUsername));
    }

    #[test]
    fn json_ld_shapes_and_oversize_fields_are_handled() {
        let mut doc = mastodon_actor();
        doc["type"] = json!(["Person", "Extra"]);
        doc["inbox"] = json!({ "id": "https://mastodon.example/users/ada/inbox" });
        doc["publicKey"] = json!([{ "id": "bogus" }, doc["publicKey"].clone()]);
        doc["name"] = json!("n".repeat(5000));
        doc["summary"] = json!("s".repeat(50_000));
        let a = parse_actor(&doc, &url()).unwrap();
        assert_eq!(a.inbox.as_str(), "https://mastodon.example/users/ada/inbox");
        assert_eq!(a.display_name.chars().count(), MAX_NAME_CHARS);
        assert!(a.summary_html.len() <= MAX_SUMMARY_BYTES);
    }
}
