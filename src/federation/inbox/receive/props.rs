//! proptest properties of the envelope check: any bytes and any ActivityStreams-shaped JSON
//! are refused cleanly or yield an envelope of http(s) URLs; JSON-LD aliases do not stand in
//! for the plain keys; nesting however deep is refused without exhausting the stack.

#![allow(clippy::unwrap_used)]
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::federation::{objects::remote_actor::parse_actor, protocol::lenient::props::as_json};

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let depth = 100_000;
        let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        assert!(matches!(envelope(body.as_bytes()), Err(InboxError::Malformed(_))));
        let inside = format!(
            r#"{{"id":"https://r.example/1","type":"Create","actor":"https://r.example/u","object":{}1{}}}"#,
            open.repeat(depth),
            close.repeat(depth)
        );
        assert!(matches!(envelope(inside.as_bytes()), Err(InboxError::Malformed(_))));
    }
}

#[test]
fn json_ld_aliases_and_wrong_shapes_are_refused() {
    let ok = json!({"id": "https://r.example/1", "type": "Follow", "actor": "https://r.example/u"});
    assert!(envelope(ok.to_string().as_bytes()).is_ok());
    for bad in [
        json!({"@id": "https://r.example/1", "@type": "Follow", "as:actor": "https://r.example/u"}),
        json!({"@graph": [ok.clone()]}),
        json!({"id": ["https://r.example/1"], "type": "Follow", "actor": "https://r.example/u"}),
        json!({"id": {"id": "https://r.example/1"}, "type": "Follow", "actor": "https://r.example/u"}),
        json!({"id": "https://r.example/1", "type": ["Follow"], "actor": "https://r.example/u"}),
        json!({"id": "https://r.example/1", "type": "Follow", "actor": ["https://r.example/u"]}),
        json!({"id": "https://r.example/1", "type": "Follow", "actor": {"id": {"id": "https://r.example/u"}}}),
        json!([ok.clone()]),
    ] {
        assert!(envelope(bad.to_string().as_bytes()).is_err(), "{bad}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = envelope(&body);
    }

    #[test]
    fn arbitrary_activities_give_http_urls_or_a_clean_refusal(value in as_json()) {
        if let Ok(env) = envelope(value.to_string().as_bytes()) {
            prop_assert!(matches!(env.id.scheme(), "http" | "https"));
            prop_assert!(matches!(env.actor.scheme(), "http" | "https"));
            prop_assert!(!env.kind.is_empty() || value.get("type") == Some(&json!("")));
            prop_assert!(env.kind.chars().count() <= 64);
            // Only the plain keys count, and `id`/`type` only as strings.
            prop_assert!(value.get("id").is_some_and(Value::is_string));
            prop_assert!(value.get("type").is_some_and(Value::is_string));
        }
    }

    #[test]
    fn arbitrary_actor_documents_never_panic_and_stay_on_their_origin(value in as_json()) {
        let url = Url::parse("https://remote.example/users/ada").unwrap();
        if let Ok(actor) = parse_actor(&value, &url) {
            prop_assert_eq!(&actor.ap_id, &url);
            prop_assert_eq!(actor.inbox.origin(), url.origin());
            prop_assert_eq!(crate::text::sanitize_remote_html(&actor.summary_html), actor.summary_html);
        }
    }
}
