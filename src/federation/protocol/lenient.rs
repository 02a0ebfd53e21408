//! Reading JSON from other servers without trusting its shape.
//!
//! ActivityStreams is JSON-LD: a property that "should" be a string may arrive as an object
//! (`{"id": …}` / `{"href": …}`), an array of either, or with a language map. Rather than
//! strict serde structs that reject valid peers or accept tricks, wire documents from
//! outside are read as `serde_json::Value` and every field goes through these helpers,
//! which take the first usable value and cap every string and array (FEDERATION.md §5 F7).

use serde_json::Value;
use url::Url;

/// The `id` of a value that is either a URL string or an object carrying `id` (or, for
/// links, `href`). Arrays yield their first usable element.
pub fn id_of(value: &Value) -> Option<Url> {
    match value {
        Value::String(s) if s.len() <= MAX_URL_LEN => {
            Url::parse(s).ok().filter(|u| u.scheme() == "https" || u.scheme() == "http")
        }
        Value::Object(map) => map.get("id").or_else(|| map.get("href")).and_then(|v| match v {
            Value::String(_) => id_of(v),
            _ => None,
        }),
        Value::Array(items) => items.iter().take(MAX_ARRAY_SCAN).find_map(id_of),
        _ => None,
    }
}

/// A string field, truncated to `max_chars`. Arrays yield their first string; language
/// maps (`nameMap`) are not consulted here.
pub fn string_of(value: &Value, max_chars: usize) -> Option<String> {
    match value {
        Value::String(s) => Some(truncate(s, max_chars)),
        Value::Array(items) => items.iter().take(MAX_ARRAY_SCAN).find_map(|v| match v {
            Value::String(s) => Some(truncate(s, max_chars)),
            _ => None,
        }),
        _ => None,
    }
}

/// A boolean field; anything that is not a JSON boolean is `None`.
pub fn bool_of(value: &Value) -> Option<bool> {
    value.as_bool()
}

/// The `type` of an object: the first string when it is an array.
pub fn type_of(value: &Value) -> Option<String> {
    string_of(value.get("type")?, 64)
}

/// Up to `max` elements of a value that may be a single item or an array.
pub fn items_of(value: &Value, max: usize) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().take(max).collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Longest URL we accept from outside.
pub const MAX_URL_LEN: usize = 2048;
/// How far into an array we look for a usable element.
const MAX_ARRAY_SCAN: usize = 16;

/// Truncates to at most `max_chars` characters, on a character boundary.
pub fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((byte, _)) => s.get(..byte).unwrap_or_default().to_owned(),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_come_from_strings_objects_and_arrays() {
        let want = Some(Url::parse("https://a.example/x").unwrap());
        assert_eq!(id_of(&json!("https://a.example/x")), want);
        assert_eq!(id_of(&json!({"id": "https://a.example/x"})), want);
        assert_eq!(id_of(&json!({"type": "Link", "href": "https://a.example/x"})), want);
        assert_eq!(id_of(&json!([42, {"id": "https://a.example/x"}])), want);
        assert_eq!(id_of(&json!("javascript:alert(1)")), None);
        assert_eq!(id_of(&json!({"id": {"id": "https://a.example/x"}})), None, "no nesting games");
        assert_eq!(id_of(&json!(42)), None);
        assert_eq!(id_of(&json!(format!("https://a.example/{}", "x".repeat(3000)))), None);
    }

    #[test]
    fn strings_are_capped_on_character_boundaries() {
        assert_eq!(string_of(&json!("héllo"), 2), Some("hé".into()));
        assert_eq!(string_of(&json!(["a", "b"]), 10), Some("a".into()));
        assert_eq!(string_of(&json!({"en": "x"}), 10), None);
        assert_eq!(truncate("😀😀😀", 2), "😀😀");
    }

    #[test]
    fn items_are_bounded() {
        let many: Vec<i32> = (0..1000).collect();
        assert_eq!(items_of(&json!(many), 10).len(), 10);
        assert_eq!(items_of(&json!({"a": 1}), 10).len(), 1);
        assert!(items_of(&Value::Null, 10).is_empty());
    }
}

/// proptest properties: the lenient readers never panic on any JSON, only ever return
/// http(s) ids, and respect their caps. The JSON strategy is shared with the inbox
/// envelope's and the actor parser's properties.
#[cfg(test)]
pub(crate) mod props {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    /// Strings that matter to an ActivityPub reader: URLs good and bad, huge ones, HTML.
    fn leaf_string() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("https://remote.example/users/ada".to_owned()),
            Just("https://remote.example/activities/1".to_owned()),
            Just("http://127.0.0.1/users/x".to_owned()),
            Just("https://openhouse.example/users/acme".to_owned()),
            Just("javascript:alert(1)".to_owned()),
            Just("data:text/html,<script>alert(1)</script>".to_owned()),
            Just(format!("https://remote.example/{}", "x".repeat(3000))),
            Just("<p onclick=x()>hi<script>alert(1)</script></p>".to_owned()),
            Just("Create".to_owned()),
            Just("Person".to_owned()),
            Just("Note".to_owned()),
            Just("😀".repeat(100)),
            any::<String>(),
        ]
    }

    /// Keys of the ActivityStreams vocabulary, JSON-LD keywords and aliases.
    const KEYS: &[&str] = &[
        "id",
        "type",
        "actor",
        "object",
        "href",
        "@context",
        "@graph",
        "@id",
        "@type",
        "as:actor",
        "attributedTo",
        "to",
        "cc",
        "inReplyTo",
        "summary",
        "content",
        "name",
        "preferredUsername",
        "inbox",
        "outbox",
        "endpoints",
        "sharedInbox",
        "publicKey",
        "owner",
        "publicKeyPem",
        "url",
        "icon",
        "tag",
        "",
    ];

    /// Arbitrary JSON shaped like ActivityStreams: nested objects and arrays of the above.
    pub(crate) fn as_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            leaf_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..8)
                    .prop_map(|pairs| { Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()) }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn readers_never_panic_and_respect_their_caps(value in as_json(), max in 0usize..100) {
            if let Some(id) = id_of(&value) {
                prop_assert!(matches!(id.scheme(), "http" | "https"), "{}", id);
                prop_assert!(id.has_host());
            }
            if let Some(s) = string_of(&value, max) {
                prop_assert!(s.chars().count() <= max);
            }
            prop_assert!(items_of(&value, max).len() <= max.max(1));
            if let Some(t) = type_of(&value) {
                prop_assert!(t.chars().count() <= 64);
            }
            let _ = bool_of(&value);
        }

        #[test]
        fn truncation_is_a_prefix_on_a_character_boundary(s in any::<String>(), max in 0usize..50) {
            let t = truncate(&s, max);
            prop_assert!(s.starts_with(&t));
            prop_assert_eq!(t.chars().count(), s.chars().count().min(max));
        }
    }
}
