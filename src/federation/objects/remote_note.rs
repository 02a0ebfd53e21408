//! Notes of other servers: reading their documents safely (FEDERATION.md §4 I8, §5 F7,
//! §7) into what we store. Every field is capped, the HTML sanitized, and the author must
//! live on the note's own host.

use crate::domain::Visibility;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use url::Url;

use crate::{
    federation::{
        objects::remote_actor::same_origin,
        protocol::{
            context::PUBLIC,
            lenient::{MAX_URL_LEN, bool_of, id_of, items_of, string_of, truncate, type_of},
        },
    },
    text::sanitize_remote_html_at,
};

/// Object types stored as notes.
pub const NOTE_TYPES: &[&str] = &["Note", "Article", "Page", "Question"];
/// Longest `content` read, in characters, before sanitizing.
pub const MAX_CONTENT_CHARS: usize = 100_000;
/// Longest content warning kept, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_048;
/// Most attachments kept (Mastodon's cap).
pub const MAX_ATTACHMENTS: usize = 4;
/// Longest alt text kept (Mastodon's cap).
pub const MAX_ALT_CHARS: usize = 10_000;
/// Most tags looked at.
pub const MAX_TAGS: usize = 100;
/// Most addressees looked at in `to` and in `cc`.
pub const MAX_ADDRESSEES: usize = 200;

/// A remote note document, checked and capped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteNoteDoc {
    pub ap_id: Url,
    pub attributed_to: Url,
    pub url: Option<Url>,
    /// Sanitized HTML.
    pub content_html: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    /// `public`, `unlisted`, `followers` or `direct`.
    pub visibility: Visibility,
    pub in_reply_to: Option<Url>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    /// Capped JSON array of `{url, media_type, name}`, or `None` without attachments.
    pub attachments_json: Option<String>,
    /// Actors named by `Mention` tags that are also addressed (`to`/`cc`): whom the note
    /// notifies, as Mastodon decides it. `(href, name)`.
    pub addressed_mentions: Vec<(Url, String)>,
}

/// Why a document was not accepted as a note.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteRejected {
    /// Not an object, or not a type we store.
    #[error("not a note")]
    NotANote,
    /// A required field is missing.
    #[error("note lacks a usable {0}")]
    Missing(&'static str),
    /// Its author lives on another host than the note (I8).
    #[error("the note's author is on another host than the note")]
    ForeignAuthor,
}

/// Reads a note document. The caller checks where it came from (the fetched URL, or the
/// activity's actor host).
pub fn parse_note(doc: &Value) -> Result<RemoteNoteDoc, NoteRejected> {
    if !doc.is_object() {
        return Err(NoteRejected::NotANote);
    }
    let kind = type_of(doc).ok_or(NoteRejected::NotANote)?;
    if !NOTE_TYPES.contains(&kind.as_str()) {
        return Err(NoteRejected::NotANote);
    }
    // The id must be a plain string: no object, array or alias games.
    let ap_id = match doc.get("id") {
        Some(v @ Value::String(_)) => id_of(v),
        _ => None,
    }
    .ok_or(NoteRejected::Missing("id"))?;
    let attributed_to = doc.get("attributedTo").and_then(id_of).ok_or(NoteRejected::Missing("attributedTo"))?;
    if !same_origin(&attributed_to, &ap_id) {
        return Err(NoteRejected::ForeignAuthor);
    }
    let content = doc
        .get("content")
        .and_then(|v| string_of(v, MAX_CONTENT_CHARS))
        .or_else(|| {
            doc.get("contentMap")
                .and_then(Value::as_object)
                .and_then(|m| m.values().take(16).find_map(|v| string_of(v, MAX_CONTENT_CHARS)))
        })
        .unwrap_or_default();
    let summary = doc.get("summary").and_then(|v| string_of(v, MAX_SUMMARY_CHARS)).filter(|s| !s.trim().is_empty());
    let to = addressees(doc.get("to"));
    let cc = addressees(doc.get("cc"));
    let followers = doc_followers(&attributed_to);
    let visibility = if to.iter().any(is_public) {
        Visibility::Public
    } else if cc.iter().any(is_public) {
        Visibility::Unlisted
    } else if to.iter().chain(cc.iter()).any(|u| u.as_str().ends_with("/followers") || Some(u) == followers.as_ref()) {
        Visibility::Followers
    } else {
        Visibility::Direct
    };
    let addressed_mentions = items_of(doc.get("tag").unwrap_or(&Value::Null), MAX_TAGS)
        .into_iter()
        .filter(|t| type_of(t).as_deref() == Some("Mention"))
        .filter_map(|t| {
            let href = t.get("href").and_then(id_of)?;
            let name = t.get("name").and_then(|n| string_of(n, 300)).unwrap_or_default();
            let addressed = to.iter().chain(cc.iter()).any(|a| *a == href);
            addressed.then_some((href, name))
        })
        .collect();
    let attachments: Vec<Value> = items_of(doc.get("attachment").unwrap_or(&Value::Null), MAX_ATTACHMENTS)
        .into_iter()
        .filter_map(|a| {
            let url = a.get("url").and_then(id_of).or_else(|| a.get("href").and_then(id_of))?;
            Some(json!({
                "url": url.as_str(),
                "media_type": a.get("mediaType").and_then(|m| string_of(m, 100)).unwrap_or_default(),
                "name": a.get("name").and_then(|n| string_of(n, MAX_ALT_CHARS)).unwrap_or_default(),
            }))
        })
        .collect();
    Ok(RemoteNoteDoc {
        url: doc.get("url").and_then(id_of),
        content_html: sanitize_remote_html_at(&truncate(&content, MAX_CONTENT_CHARS), &ap_id),
        summary,
        sensitive: doc.get("sensitive").and_then(bool_of).unwrap_or(false),
        visibility,
        in_reply_to: doc.get("inReplyTo").and_then(id_of),
        published: time_of(doc.get("published")).unwrap_or_else(Utc::now),
        updated: time_of(doc.get("updated")),
        attachments_json: (!attachments.is_empty()).then(|| Value::Array(attachments).to_string()),
        addressed_mentions,
        attributed_to,
        ap_id,
    })
}

fn addressees(value: Option<&Value>) -> Vec<Url> {
    let Some(value) = value else { return Vec::new() };
    items_of(value, MAX_ADDRESSEES)
        .into_iter()
        .filter_map(|v| match v {
            // `as:Public` and `Public` are compact forms of the public collection.
            Value::String(s) if s == "as:Public" || s == "Public" => Url::parse(PUBLIC).ok(),
            other => id_of(other),
        })
        .collect()
}

fn is_public(url: &Url) -> bool {
    url.as_str() == PUBLIC
}

/// Mastodon's followers collection of an actor URL (a guess used only for visibility).
fn doc_followers(actor: &Url) -> Option<Url> {
    Url::parse(&format!("{}/followers", actor.as_str().trim_end_matches('/'))).ok()
}

fn time_of(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let s = value?.as_str()?;
    if s.len() > 64 {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// Whether a URL is short enough to store.
pub fn storable(url: &Url) -> bool {
    url.as_str().len() <= MAX_URL_LEN
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn note() -> Value {
        json!({
            "id": "https://m.example/users/ada/statuses/1",
            "type": "Note",
            "attributedTo": "https://m.example/users/ada",
            "content": "<p>Hi <script>alert(1)</script><a href=\"javascript:x\">x</a></p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["https://m.example/users/ada/followers", "https://o.example/users/acme"],
            "tag": [
                {"type": "Mention", "href": "https://o.example/users/acme", "name": "@acme@o.example"},
                {"type": "Mention", "href": "https://o.example/users/bob", "name": "@bob@o.example"}
            ],
            "inReplyTo": "https://o.example/users/acme/posts/1",
            "published": "2026-11-23T10:00:00Z",
            "attachment": [{"type": "Document", "mediaType": "image/png", "url": "https://m.example/a.png", "name": "alt"}]
        })
    }

    #[test]
    fn relative_links_in_content_point_at_the_notes_own_server() {
        let mut n = note();
        n["content"] = json!("<p><a href=\"/tags/cats\">#cats</a> <a href=\"2\">next</a></p>");
        let html = parse_note(&n).unwrap().content_html;
        assert!(html.contains("href=\"https://m.example/tags/cats\""), "{html}");
        assert!(html.contains("href=\"https://m.example/users/ada/statuses/2\""), "{html}");
    }

    #[test]
    fn a_mastodon_reply_is_read_and_sanitized() {
        let doc = parse_note(&note()).unwrap();
        assert_eq!(doc.visibility, Visibility::Public);
        assert!(!doc.content_html.contains("script") && !doc.content_html.contains("javascript"));
        assert_eq!(doc.addressed_mentions.len(), 1, "only the addressed mention counts");
        assert_eq!(doc.in_reply_to.unwrap().as_str(), "https://o.example/users/acme/posts/1");
        assert!(doc.attachments_json.unwrap().contains("a.png"));
    }

    #[test]
    fn foreign_authors_and_odd_ids_are_refused() {
        let mut n = note();
        n["attributedTo"] = json!("https://evil.example/users/x");
        assert_eq!(parse_note(&n), Err(NoteRejected::ForeignAuthor));
        let mut n = note();
        n["id"] = json!({"id": "https://m.example/users/ada/statuses/1"});
        assert_eq!(parse_note(&n), Err(NoteRejected::Missing("id")));
        let mut n = note();
        n["type"] = json!("Person");
        assert_eq!(parse_note(&n), Err(NoteRejected::NotANote));
    }

    #[test]
    fn addressing_gives_the_visibility() {
        let mut n = note();
        n["to"] = json!(["https://o.example/users/acme"]);
        n["cc"] = json!([]);
        assert_eq!(parse_note(&n).unwrap().visibility, Visibility::Direct);
        n["cc"] = json!("as:Public");
        assert_eq!(parse_note(&n).unwrap().visibility, Visibility::Unlisted);
    }
}
