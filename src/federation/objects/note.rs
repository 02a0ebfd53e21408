//! Local posts as `Note`s, and their addressing (FEDERATION.md §2).
//!
//! | visibility | `to` | `cc` |
//! |---|---|---|
//! | public | Public | followers, mentioned |
//! | unlisted | followers | Public, mentioned |
//! | followers | followers | mentioned |

use chrono::{DateTime, SecondsFormat, Utc};
use url::Url;

use crate::{
    domain::Visibility,
    federation::protocol::{
        context::{PUBLIC, note_context},
        note::{Attachment, Note, Tag, Tombstone},
    },
    services::posts::PostDetails,
    urls::Urls,
};

/// A stored URL that does not parse: the post cannot be sent as it is.
#[derive(Debug, thiserror::Error)]
#[error("post {0} has an invalid stored URL")]
pub struct InvalidStoredPost(pub i64);

/// Whether a Note or Tombstone carries its own JSON-LD `@context`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LdContext {
    /// Served on its own, at its URL.
    Included,
    /// Inside an activity, which carries the context.
    Omitted,
}

impl LdContext {
    fn value(self) -> Option<serde_json::Value> {
        (self == Self::Included).then(note_context)
    }
}

/// A local post, ready to be served or sent.
#[derive(Clone, Copy, Debug)]
pub struct ApubNote<'a>(pub &'a PostDetails);

/// Timestamps as Mastodon writes them: RFC 3339 to the second, `Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl ApubNote<'_> {
    fn url(&self, raw: &str) -> Result<Url, InvalidStoredPost> {
        Url::parse(raw).map_err(|_| InvalidStoredPost(self.0.post.id))
    }

    /// `to` and `cc` for the post's visibility, mentioned actors in `cc`.
    pub fn addressing(&self, urls: &Urls) -> Result<(Vec<Url>, Vec<Url>), InvalidStoredPost> {
        let public = self.url(PUBLIC)?;
        let followers = self.url(&urls.actor_collection(&self.0.author.username, "followers"))?;
        let (to, mut cc) = match self.0.visibility() {
            Visibility::Public => (vec![public], vec![followers]),
            Visibility::Unlisted => (vec![followers], vec![public]),
            // Our posts are never direct; a direct note is addressed as followers-only.
            Visibility::Followers | Visibility::Direct => (vec![followers], Vec::new()),
        };
        for mention in &self.0.parts.mentions {
            let href = self.url(&mention.href)?;
            if !cc.contains(&href) {
                cc.push(href);
            }
        }
        Ok((to, cc))
    }

    /// Outbound: the Note, with its `@context` when it is served on its own.
    pub fn into_json(self, urls: &Urls, context: LdContext) -> Result<Note, InvalidStoredPost> {
        let d = self.0;
        let id = self.url(&d.post.ap_id)?;
        let (to, cc) = self.addressing(urls)?;
        let mut tag = Vec::with_capacity(d.parts.mentions.len() + d.parts.tags.len());
        for m in &d.parts.mentions {
            tag.push(Tag { kind: "Mention".into(), href: self.url(&m.href)?, name: m.name.clone() });
        }
        for t in &d.parts.tags {
            tag.push(Tag { kind: "Hashtag".into(), href: self.url(&t.href)?, name: format!("#{}", t.name) });
        }
        let attachment = d
            .parts
            .media
            .iter()
            .map(|m| {
                Ok(Attachment {
                    kind: "Image".into(),
                    media_type: m.media_type.clone(),
                    url: self.url(&urls.media(&m.file_name))?,
                    name: m.alt_text.clone(),
                })
            })
            .collect::<Result<Vec<_>, InvalidStoredPost>>()?;
        Ok(Note {
            context: context.value(),
            kind: "Note".into(),
            attributed_to: self.url(&d.author.ap_id)?,
            url: id.clone(),
            published: timestamp(d.post.published_at.unwrap_or(d.post.created_at)),
            updated: d.post.edited_at.map(timestamp),
            content: d.post.content_html.clone(),
            summary: d.post.summary.clone(),
            sensitive: d.post.sensitive,
            to,
            cc,
            tag,
            attachment,
            in_reply_to: d.post.in_reply_to_ap_id.as_deref().map(|r| self.url(r)).transpose()?,
            replies: self.url(&urls.post_replies(&d.author.username, d.post.id))?,
            id,
        })
    }
}

/// Outbound: what a deleted post's URL answers, and the object of `Delete`.
pub fn tombstone(ap_id: &str, deleted_at: DateTime<Utc>, context: LdContext) -> Option<Tombstone> {
    Some(Tombstone {
        context: context.value(),
        id: Url::parse(ap_id).ok()?,
        kind: "Tombstone".into(),
        former_type: "Note".into(),
        deleted: timestamp(deleted_at),
    })
}
