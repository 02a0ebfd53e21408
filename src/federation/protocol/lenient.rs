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
