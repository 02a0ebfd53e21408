//! JSON from other servers: the inbox's activity envelope (`federation::inbox::envelope`)
//! and the lenient actor and note readers (`parse_actor`, `parse_note`). The input is an
//! activity body; the actor reader is given the document's own `id` as the URL it was
//! fetched from (else it stops at F2), and the note reader sees the document and its
//! `object`.
//!
//! Checked beyond "no panic": what an accepted actor or note promises (I8, F2, §7): every
//! URL on the actor's origin where it must be, sanitized HTML that is a fixed point, the
//! caps on names, and a note's author on the note's origin.

#![no_main]

use libfuzzer_sys::fuzz_target;
use openhouse::{
    federation::{
        inbox::envelope,
        objects::{
            remote_actor::{MAX_NAME_CHARS, parse_actor, same_origin},
            remote_note::{MAX_SUMMARY_CHARS, parse_note},
        },
    },
    text::sanitize_remote_html,
};
use serde_json::Value;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let accepted = envelope(data).is_ok();
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        assert!(!accepted, "an envelope accepted a body that is not JSON");
        return;
    };
    if accepted {
        assert!(doc.is_object(), "an envelope accepted a non-object");
        assert!(doc.get("id").is_some_and(Value::is_string), "an envelope accepted an id that is not a string");
    }
    for candidate in [Some(&doc), doc.get("object")].into_iter().flatten() {
        check_actor(candidate);
        check_note(candidate);
    }
});

fn check_actor(doc: &Value) {
    let fetched = doc
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .unwrap_or_else(|| Url::parse("https://remote.example/users/alice").expect("a valid URL"));
    let Ok(actor) = parse_actor(doc, &fetched) else { return };
    assert_eq!(actor.ap_id, fetched, "F2: the id is the URL it was fetched from");
    assert!(matches!(actor.ap_id.scheme(), "http" | "https"));
    for (what, url) in [
        ("inbox", Some(&actor.inbox)),
        ("sharedInbox", actor.shared_inbox.as_ref()),
        ("outbox", actor.outbox.as_ref()),
        ("followers", actor.followers.as_ref()),
    ] {
        if let Some(url) = url {
            assert!(same_origin(url, &actor.ap_id), "I8: {what} {url} is not on {}", actor.ap_id);
        }
    }
    let key = Url::parse(&actor.public_key_id).expect("the key id is a URL");
    assert!(same_origin(&key, &actor.ap_id), "I8: key {key} is not on {}", actor.ap_id);
    assert!(!actor.username.trim().is_empty() && !actor.username.contains(['@', '/', ' ', '<', '>']));
    assert!(actor.username.chars().count() <= MAX_NAME_CHARS);
    assert!(actor.display_name.chars().count() <= MAX_NAME_CHARS);
    assert!(!actor.domain.is_empty());
    assert_eq!(sanitize_remote_html(&actor.summary_html), actor.summary_html, "summary not a fixed point");
}

fn check_note(doc: &Value) {
    let Ok(note) = parse_note(doc) else { return };
    assert!(same_origin(&note.attributed_to, &note.ap_id), "I8: the author is on another host");
    // The visibility is one of the stored kinds by its type (`domain::Visibility`).
    assert!(note.summary.as_ref().is_none_or(|s| !s.trim().is_empty() && s.chars().count() <= MAX_SUMMARY_CHARS));
    assert_eq!(sanitize_remote_html(&note.content_html), note.content_html, "content not a fixed point");
    if let Some(json) = &note.attachments_json {
        let list: Value = serde_json::from_str(json).expect("attachments are JSON");
        assert!(list.as_array().is_some_and(|a| !a.is_empty() && a.len() <= 4));
    }
}
