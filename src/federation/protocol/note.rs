//! `Note` (a post), its tags and attachments, and the `Tombstone` left by a delete.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// A post as peers receive it (FEDERATION.md §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// JSON-LD context, when the Note is served on its own.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// Its URL on our host.
    pub id: Url,
    /// `Note`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The author's actor id.
    pub attributed_to: Url,
    /// The page people open (the same URL: it serves HTML to browsers).
    pub url: Url,
    /// RFC 3339, seconds.
    pub published: String,
    /// RFC 3339, seconds: set once edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// Sanitized HTML.
    pub content: String,
    /// The content warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Whether clients should hide it behind the warning.
    pub sensitive: bool,
    /// Primary audience.
    pub to: Vec<Url>,
    /// Secondary audience.
    pub cc: Vec<Url>,
    /// `Mention` and `Hashtag` tags.
    pub tag: Vec<Tag>,
    /// Images.
    pub attachment: Vec<Attachment>,
    /// The post it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<Url>,
    /// Where its replies are listed.
    pub replies: Url,
}

/// A `Mention` (`name` = `@user@host`) or a `Hashtag` (`name` = `#tag`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// `Mention` or `Hashtag`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The actor id, or the tag page.
    pub href: Url,
    /// What the text shows.
    pub name: String,
}

/// An image attached to a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// `Image`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The real image type.
    pub media_type: String,
    /// Where the file is served.
    pub url: Url,
    /// The alt text.
    pub name: String,
}

/// What a deleted post's URL answers (with 410), and the object of `Delete`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    /// JSON-LD context, when served on its own.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// The deleted post's id.
    pub id: Url,
    /// `Tombstone`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `Note`.
    pub former_type: String,
    /// RFC 3339, seconds.
    pub deleted: String,
}
