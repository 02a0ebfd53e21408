//! Writing posts: publishing (now or scheduled), editing, deleting, releasing scheduled
//! posts when due; and what every write checks and renders first (author, text, content
//! warning, reply visibility and mention, Markdown).
//!
//! Each change that peers must hear about records an [`OutboxEvent`] in its own
//! transaction (`PostPublished`, `PostEdited`, `PostDeleted`); the federation wing turns it
//! into `Create`/`Update`/`Delete`. Mentions arrive resolved: the caller looked them up.
//!
//! A staff reply ([`Draft::in_reply_to`]) names the post it answers and always mentions that
//! post's author: the Mention tag and the addressing are what make Mastodon notify them, and
//! a mentioned remote actor's inbox receives the post (FEDERATION.md §2).

use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, IntoActiveModel};

use crate::{
    db::{
        entities::{actors, posts},
        queries,
    },
    domain::Visibility,
    error::{AppError, AppResult},
    markdown::{self, MentionLink},
    services::{
        media::{self, Upload},
        outbox::{self, OutboxEvent},
    },
    urls::Urls,
};

/// Longest post, in characters of Markdown.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Longest content warning, in characters.
pub const MAX_CW_CHARS: usize = 500;
/// What an author asks to publish.
#[derive(Clone)]
pub struct Draft {
    /// Markdown.
    pub text: String,
    /// A content warning shown before the text.
    pub content_warning: Option<String>,
    /// Who may see it.
    pub visibility: Visibility,
    /// Publish later; a time not in the future publishes now.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The post this one answers, resolved by the caller.
    pub in_reply_to: Option<ReplyTarget>,
    /// The accounts the text mentions, as the caller resolved them from
    /// [`markdown::mention_handles`].
    pub mentioned: Vec<Mention>,
    /// Images to attach.
    pub uploads: Vec<Upload>,
}

impl Draft {
    /// A public post of `text` to publish now: no warning, no images, not a reply.
    pub fn public(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            content_warning: None,
            visibility: Visibility::Public,
            scheduled_at: None,
            in_reply_to: None,
            mentioned: Vec::new(),
            uploads: Vec::new(),
        }
    }
}

/// The post a reply answers: its id, our row when we hold it, and its author.
#[derive(Clone, Debug)]
pub struct ReplyTarget {
    /// The parent's id (a URL).
    pub ap_id: String,
    /// The parent's row, when it is ours or a remote note we stored.
    pub post: Option<posts::Model>,
    /// The parent's author, as the reply mentions them.
    pub author: Mention,
    /// The parent's visibility.
    pub visibility: Visibility,
}

/// A reply may not be more visible than what it answers: a public answer to a private
/// message would publish that a private conversation took place, and quote it by context.
fn check_reply_visibility(target: &ReplyTarget, asked: Visibility) -> AppResult<()> {
    let private_parent = matches!(target.visibility, Visibility::Followers | Visibility::Direct);
    if private_parent && asked != Visibility::Followers {
        return Err(AppError::unprocessable(format!(
            "{} is not public: answer it with visibility followers (direct answers are not supported yet)",
            target.ap_id
        )));
    }
    Ok(())
}

/// A reply names the person it answers: `@user@host` goes first when the text does not
/// already mention them (not when answering oneself).
fn with_reply_mention(
    text: String,
    author: &actors::Model,
    mentioned: &[Mention],
    replied_to: &Mention,
) -> (String, Vec<Mention>) {
    let mut mentioned = mentioned.to_vec();
    if replied_to.actor.id == author.id {
        return (text, mentioned);
    }
    let handle = &replied_to.handle;
    let named = markdown::mention_handles(&text).iter().any(|h| h.eq_ignore_ascii_case(handle));
    let text = if named { text } else { format!("@{handle} {text}") };
    if !mentioned.iter().any(|m| m.actor.id == replied_to.actor.id) {
        mentioned.push(replied_to.clone());
    }
    (text, mentioned)
}

/// The author of the post `post` answers, when we hold that post: an edit keeps them
/// mentioned (and so addressed) even if the new text leaves their handle out.
async fn replied_to(
    db: &impl sea_orm::ConnectionTrait,
    urls: &Urls,
    post: &posts::Model,
) -> AppResult<Option<Mention>> {
    let Some(parent_id) = post.in_reply_to_post_id else { return Ok(None) };
    let Some(parent) = queries::posts::find(db, parent_id).await? else { return Ok(None) };
    let Some(actor) = queries::actors::find(db, parent.actor_id).await? else { return Ok(None) };
    let domain = if actor.local { urls.handle_domain() } else { actor.domain.clone() };
    Ok(Some(Mention { handle: format!("{}@{domain}", actor.username), actor }))
}

fn checked_text(text: &str) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::unprocessable("the text is empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(AppError::unprocessable(format!(
            "the text has {chars} characters; at most {MAX_TEXT_CHARS} are allowed"
        )));
    }
    Ok(text.replace("\r\n", "\n"))
}

fn checked_cw(cw: Option<&str>) -> AppResult<Option<String>> {
    let Some(cw) = cw.map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    if cw.chars().count() > MAX_CW_CHARS {
        return Err(AppError::unprocessable(format!("the content warning is longer than {MAX_CW_CHARS} characters")));
    }
    Ok(Some(cw.to_owned()))
}

fn check_author(author: &actors::Model) -> AppResult<()> {
    if !author.local || author.kind == crate::domain::ActorKind::Instance {
        return Err(AppError::unprocessable("only the instance's accounts publish here"));
    }
    Ok(())
}

/// An account the text mentions, as the caller resolved it.
#[derive(Clone, Debug)]
pub struct Mention {
    /// The handle as written, `user@host`.
    pub handle: String,
    /// The account it names.
    pub actor: actors::Model,
}

/// Markdown → HTML, and the mention and tag rows for what the text names.
struct Rendering {
    html: String,
    mentions: Vec<queries::posts::MentionRow>,
    tags: Vec<(String, String)>,
}

fn render(urls: &Urls, text: &str, mentioned: &[Mention]) -> Rendering {
    let links: Vec<MentionLink> = mentioned
        .iter()
        .map(|m| MentionLink {
            handle: m.handle.clone(),
            href: m.actor.profile_url.clone().unwrap_or_else(|| m.actor.ap_id.clone()),
        })
        .collect();
    let tags_base = urls.tags_base();
    let rendered = markdown::render(text, &tags_base, &links);
    let mut seen = std::collections::HashSet::new();
    let mentions = rendered
        .mentions
        .iter()
        .filter_map(|handle| mentioned.iter().find(|m| &m.handle == handle))
        .filter(|m| seen.insert(m.actor.id))
        .map(|m| queries::posts::MentionRow {
            actor_id: m.actor.id,
            href: m.actor.ap_id.clone(),
            name: format!("@{}", m.handle),
        })
        .collect();
    let tags =
        rendered.hashtags.iter().map(|t| t.to_lowercase()).map(|t| (t.clone(), format!("{tags_base}{t}"))).collect();
    Rendering { html: rendered.html, mentions, tags }
}

/// Publishes a post now, or schedules it; its images are written under `media_dir`.
#[tracing::instrument(skip_all, fields(author = %author.username))]
pub async fn publish(
    db: &DatabaseConnection,
    urls: &Urls,
    media_dir: &Path,
    author: &actors::Model,
    draft: Draft,
) -> AppResult<posts::Model> {
    let Draft { text, content_warning, visibility, scheduled_at, in_reply_to, mentioned, uploads } = draft;
    check_author(author)?;
    let text = checked_text(&text)?;
    let cw = checked_cw(content_warning.as_deref())?;
    media::validate(&uploads)?;
    if let Some(target) = &in_reply_to {
        check_reply_visibility(target, visibility)?;
    }
    let (text, mentioned) = match &in_reply_to {
        Some(target) => with_reply_mention(text, author, &mentioned, &target.author),
        None => (text, mentioned),
    };
    let rendering = render(urls, &text, &mentioned);
    let now = Utc::now();
    let scheduled_at = scheduled_at.filter(|at| *at > now);
    let written = media::write(media_dir, uploads).await?;
    // The reply's place in the thread: under its parent when we hold it (ADR 0008); a
    // parent we only fetched leaves it an orphan that the inbound side re-links later.
    let parent = in_reply_to.as_ref().and_then(|t| t.post.as_ref());
    let root_id = parent.map(|p| p.thread_root_id.unwrap_or(p.id));
    let depth = parent.map_or(0, |p| p.depth.saturating_add(1));

    let txn = crate::db::begin_write(db).await?;
    let post = queries::posts::insert(
        &txn,
        posts::ActiveModel {
            ap_id: Set(format!("urn:uuid:{}", uuid::Uuid::new_v4())),
            actor_id: Set(author.id),
            local: Set(true),
            content_source: Set(text),
            content_html: Set(rendering.html),
            sensitive: Set(cw.is_some()),
            summary: Set(cw),
            visibility: Set(visibility),
            in_reply_to_ap_id: Set(in_reply_to.as_ref().map(|t| t.ap_id.clone())),
            in_reply_to_post_id: Set(parent.map(|p| p.id)),
            thread_root_id: Set(root_id),
            depth: Set(depth),
            published_at: Set(scheduled_at.is_none().then_some(now)),
            scheduled_at: Set(scheduled_at),
            edited_at: Set(None),
            deleted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let ap_id = urls.post(&author.username, post.id);
    queries::posts::set_ap_id(&txn, post.id, &ap_id).await?;
    queries::posts::replace_refs(&txn, post.id, rendering.mentions, rendering.tags).await?;
    queries::posts::insert_media(&txn, written.rows(post.id, author.id)).await?;
    if post.published_at.is_some() {
        outbox::record(&txn, &OutboxEvent::PostPublished { post_id: post.id }).await?;
        answer_thread(&txn, &post, now).await?;
    }
    txn.commit().await?;
    written.keep();
    tracing::info!(post = post.id, scheduled = scheduled_at.is_some(), "post stored");
    Ok(posts::Model { ap_id, ..post })
}

/// A staff reply going out answers the conversations of its thread: every unanswered
/// inbound reply or mention in it received until now (ADR 0008). A post that is not a
/// reply, or whose parent we do not hold, answers nothing.
async fn answer_thread(txn: &impl sea_orm::ConnectionTrait, post: &posts::Model, now: DateTime<Utc>) -> AppResult<()> {
    let Some(root_id) = post.thread_root_id.filter(|_| post.in_reply_to_post_id.is_some()) else { return Ok(()) };
    let answered = queries::conversations::mark_answered(txn, root_id, post.id, now).await?;
    if answered > 0 {
        tracing::info!(post = post.id, thread = root_id, answered, "conversations answered");
    }
    Ok(())
}

/// A local post by row id, for its author's tools.
async fn own_post(db: &impl sea_orm::ConnectionTrait, editor: &actors::Model, post_id: i64) -> AppResult<posts::Model> {
    let post = queries::posts::find(db, post_id)
        .await?
        .filter(|p| p.local)
        .ok_or_else(|| AppError::not_found(format!("no post {post_id}")))?;
    if post.actor_id != editor.id {
        return Err(AppError::forbidden("only the post's author can change it"));
    }
    if post.deleted_at.is_some() {
        return Err(AppError::gone(format!("post {post_id} was deleted")));
    }
    Ok(post)
}

/// Replaces a post's text and content warning (visibility stays). Peers get `Update` when
/// the post is already out; a scheduled post just changes.
#[tracing::instrument(skip_all, fields(editor = %editor.username, post = post_id))]
pub async fn edit(
    db: &DatabaseConnection,
    urls: &Urls,
    editor: &actors::Model,
    post_id: i64,
    text: &str,
    content_warning: Option<&str>,
    mentioned: &[Mention],
) -> AppResult<posts::Model> {
    let text = checked_text(text)?;
    let cw = checked_cw(content_warning)?;
    let current = own_post(db, editor, post_id).await?;
    let (text, mentioned) = match replied_to(db, urls, &current).await? {
        Some(m) => with_reply_mention(text, editor, mentioned, &m),
        None => (text, mentioned.to_vec()),
    };
    let rendering = render(urls, &text, &mentioned);
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let post = own_post(&txn, editor, post_id).await?;
    let published = post.published_at.is_some();
    let mut active = post.into_active_model();
    active.content_source = Set(text);
    active.content_html = Set(rendering.html);
    active.sensitive = Set(cw.is_some());
    active.summary = Set(cw);
    if published {
        active.edited_at = Set(Some(now));
    }
    active.updated_at = Set(now);
    let post = active.update(&txn).await?;
    queries::posts::replace_refs(&txn, post.id, rendering.mentions, rendering.tags).await?;
    if published {
        outbox::record(&txn, &OutboxEvent::PostEdited { post_id: post.id }).await?;
    }
    txn.commit().await?;
    Ok(post)
}

/// Deletes a post (softly: its URL answers 410 from now on). Peers get `Delete` when it was out.
#[tracing::instrument(skip_all, fields(editor = %editor.username, post = post_id))]
pub async fn delete(db: &DatabaseConnection, editor: &actors::Model, post_id: i64) -> AppResult<posts::Model> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let post = own_post(&txn, editor, post_id).await?;
    let published = post.published_at.is_some();
    let mut active = post.into_active_model();
    active.deleted_at = Set(Some(now));
    active.updated_at = Set(now);
    let post = active.update(&txn).await?;
    if published {
        outbox::record(&txn, &OutboxEvent::PostDeleted { post_id: post.id }).await?;
    }
    txn.commit().await?;
    Ok(post)
}

/// Releases scheduled posts whose time has come: each is claimed by a conditional UPDATE
/// (so several processes never publish one twice) and its `PostPublished` recorded in the
/// same transaction. Returns how many were released.
#[tracing::instrument(skip_all)]
pub async fn release_due(db: &DatabaseConnection) -> AppResult<usize> {
    let now = Utc::now();
    let mut released = 0;
    for post_id in queries::posts::due(db, now, 100).await? {
        let txn = crate::db::begin_write(db).await?;
        if queries::posts::claim_due(&txn, post_id, now).await? {
            outbox::record(&txn, &OutboxEvent::PostPublished { post_id }).await?;
            if let Some(post) = queries::posts::find(&txn, post_id).await? {
                answer_thread(&txn, &post, now).await?;
            }
            released += 1;
        }
        txn.commit().await?;
    }
    if released > 0 {
        tracing::info!(released, "scheduled posts released");
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_and_warnings_are_checked_with_reasons() {
        assert_eq!(checked_text("  \n ").unwrap_err().message, "the text is empty");
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(checked_text(&long).unwrap_err().message.contains("at most 5000"));
        assert_eq!(checked_text(&"é".repeat(MAX_TEXT_CHARS)).unwrap().chars().count(), MAX_TEXT_CHARS);
        assert_eq!(checked_cw(Some("  ")).unwrap(), None);
        assert_eq!(checked_cw(Some(" Spoilers ")).unwrap().as_deref(), Some("Spoilers"));
        assert!(checked_cw(Some(&"x".repeat(MAX_CW_CHARS + 1))).is_err());
    }
}
