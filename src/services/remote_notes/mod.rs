//! Remote notes: storing the notes other servers send or we fetch (replies in our threads,
//! mentions of our accounts), in batches or one by one, linked into their thread; and their
//! edits and deletes (`edits`).
//!
//! The federation wing has already checked origins and parsed the wire documents; these
//! functions get plain values and own their transactions. Each is idempotent: the same
//! input twice changes nothing the second time. Threading is described in
//! `docs/adr/0008-remote-notes-and-threads.md`; the staff-inbox rows a note brings are
//! `services::staff_inbox`'s, the links between notes `services::thread_links`'s.

mod edits;
mod lookups;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr};

pub use self::edits::{NoteEdit, delete_note, edit_note};
pub(crate) use self::{edits::tombstone, lookups::Lookups};
pub use crate::db::queries::posts::MentionRow;
use crate::{
    db::{entities::posts, queries},
    error::AppResult,
    services::{staff_inbox, thread_links},
};

/// How long a `Delete` of a note we never stored is remembered (I13: at least 24 h), so that
/// its `Create`, arriving late, is refused.
pub const DELETE_REMEMBERED: chrono::Duration = chrono::Duration::hours(48);

/// A remote note, checked and sanitized by the federation wing.
#[derive(Clone, Debug)]
pub struct IncomingNote {
    /// Its id (a URL on its author's host).
    pub ap_id: String,
    /// The cached remote author.
    pub author_id: i64,
    /// Its human-readable URL.
    pub url: Option<String>,
    /// Sanitized HTML.
    pub content_html: String,
    /// The content warning.
    pub summary: Option<String>,
    pub sensitive: bool,
    /// `public`, `unlisted`, `followers` or `direct`.
    pub visibility: crate::domain::Visibility,
    /// What it answers, as it says.
    pub in_reply_to: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    /// JSON array of `{url, media_type, name}`, capped.
    pub attachments_json: Option<String>,
    /// Local actors it mentions (with a `Mention` tag) and addresses.
    pub mentions: Vec<MentionRow>,
}

/// What storing a note did.
#[derive(Clone, Debug)]
pub enum Stored {
    /// A new row.
    Created(posts::Model),
    /// We had it already (nothing changed).
    Known(posts::Model),
}

impl Stored {
    /// Logs a new row (after its commit).
    fn log(&self) {
        if let Self::Created(post) = self {
            let orphan = post.in_reply_to_post_id.is_none() && post.in_reply_to_ap_id.is_some();
            tracing::info!(post = post.id, ap_id = %post.ap_id, orphan, "remote note stored");
        }
    }

    /// The row, new or old.
    pub fn post(&self) -> &posts::Model {
        match self {
            Self::Created(p) | Self::Known(p) => p,
        }
    }
}

/// A post by its ActivityPub id.
pub async fn find_post(db: &DatabaseConnection, ap_id: &str) -> AppResult<Option<posts::Model>> {
    Ok(queries::posts::find_by_ap_id(db, ap_id).await?)
}

/// Whether `author_id` deleted the note `ap_id` before we ever stored it, within
/// [`DELETE_REMEMBERED`]: its `Create` is then refused (I13).
pub async fn deleted_before_stored(db: &DatabaseConnection, ap_id: &str, author_id: i64) -> AppResult<bool> {
    let since = Utc::now() - DELETE_REMEMBERED;
    Ok(!queries::deleted_objects::deleted_by_author(db, [(ap_id, author_id)], since).await?.is_empty())
}

/// Stores, in order and in **one transaction**, each note that is ours to keep: it replies
/// to a post we have (one of ours, one in our threads, or one stored earlier in the same
/// batch) or it mentions one of our accounts. Each is stored as [`store_note`] stores one;
/// `None` for a note that is neither (not stored), or that its author deleted before we
/// stored it (I13: checked again here, in the write transaction, for a `Delete` processed
/// by another worker since the federation wing looked).
///
/// One transaction per batch instead of one per note is what lets the inbox worker keep up
/// with a busy feedback thread (B2): the write lock is taken once, the connection's page
/// cache stays valid from one note to the next (on SQLite, another connection's commit
/// empties it), and the parent, thread root and local actors that most replies of a batch
/// share are read once ([`Lookups`]).
#[tracing::instrument(skip_all, fields(notes = notes.len()))]
pub async fn store_relevant_notes(db: &DatabaseConnection, notes: Vec<IncomingNote>) -> AppResult<Vec<Option<Stored>>> {
    let txn = crate::db::begin_write(db).await?;
    let since = Utc::now() - DELETE_REMEMBERED;
    let deleted =
        queries::deleted_objects::deleted_by_author(&txn, notes.iter().map(|n| (n.ap_id.as_str(), n.author_id)), since)
            .await?;
    let mut kept: Vec<Option<Stored>> = vec![None; notes.len()];
    let (positions, notes): (Vec<usize>, Vec<IncomingNote>) =
        notes.into_iter().enumerate().filter(|(_, n)| !deleted.contains(&n.ap_id)).unzip();
    let mut lookups = Lookups::default();
    lookups.prefetch(&txn, &notes).await?;
    let mut bulk = store_bulk(&txn, &notes, &mut lookups).await?;
    for ((i, note), position) in notes.into_iter().enumerate().zip(positions) {
        let stored = match bulk.remove(&i) {
            Some(post) => Some(Stored::Created(post)),
            None => {
                let relevant = !note.mentions.is_empty()
                    || match note.in_reply_to.as_deref() {
                        Some(parent) => lookups.post(&txn, parent).await?.is_some(),
                        None => false,
                    };
                if relevant { Some(store_in(&txn, note, &mut lookups).await?) } else { None }
            }
        };
        if let Some(slot) = kept.get_mut(position) {
            *slot = stored;
        }
    }
    txn.commit().await?;
    kept.iter().flatten().for_each(Stored::log);
    Ok(kept)
}

/// Stores, with one multi-row statement per table, the notes of a batch that need nothing
/// done one by one: new (and once in the batch), answering a post stored before the batch,
/// and awaited by no orphan. The common case (replies to an update) goes this way; the
/// others are left to [`store_in`], in order. Returns the stored rows by batch position.
async fn store_bulk(
    db: &impl ConnectionTrait,
    notes: &[IncomingNote],
    lookups: &mut Lookups,
) -> Result<HashMap<usize, posts::Model>, DbErr> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for note in notes {
        *seen.entry(note.ap_id.as_str()).or_default() += 1;
    }
    let mut chosen: Vec<(usize, &IncomingNote, posts::Model)> = Vec::new();
    for (i, note) in notes.iter().enumerate() {
        let new = lookups.known_absent(&note.ap_id) && seen.get(note.ap_id.as_str()) == Some(&1);
        let parent = note.in_reply_to.as_deref().and_then(|p| lookups.known(p));
        if let Some(parent) = parent
            && new
            && !lookups.may_be_awaited(&note.ap_id)
        {
            chosen.push((i, note, parent));
        }
    }
    let mut stored = HashMap::new();
    if chosen.is_empty() {
        return Ok(stored);
    }
    let now = Utc::now();
    let rows: Vec<posts::ActiveModel> =
        chosen.iter().map(|(_, note, parent)| new_post_row(note, Some(parent), now)).collect();
    let inserted = queries::posts::insert_many(db, rows).await?;
    let by_ap_id: HashMap<String, posts::Model> = inserted.into_iter().map(|p| (p.ap_id.clone(), p)).collect();
    let mut mentions = Vec::new();
    let mut inbox_rows = Vec::new();
    for (i, note, parent) in &chosen {
        let Some(post) = by_ap_id.get(&note.ap_id) else {
            return Err(DbErr::Custom(format!("{} was not returned by its insert", note.ap_id)));
        };
        mentions.extend(note.mentions.iter().map(|m| (post.id, m.clone())));
        inbox_rows.extend(staff_inbox::rows_for(db, post, Some(parent), &note.mentions, now, lookups).await?);
        lookups.remember(post);
        stored.insert(*i, post.clone());
    }
    queries::posts::insert_mentions(db, mentions).await?;
    queries::conversations::insert_new(db, inbox_rows).await?;
    Ok(stored)
}

/// Stores a remote note (`Create{Note}`, or an ancestor fetched for a thread), links it
/// to its parent when we have it, re-links orphans waiting for it, and records the
/// staff-inbox rows for the local actors it replies to or mentions.
#[tracing::instrument(skip_all, fields(ap_id = %note.ap_id, author = note.author_id))]
pub async fn store_note(db: &DatabaseConnection, note: IncomingNote) -> AppResult<Stored> {
    let txn = crate::db::begin_write(db).await?;
    let stored = store_in(&txn, note, &mut Lookups::default()).await?;
    txn.commit().await?;
    stored.log();
    Ok(stored)
}

/// The row of a new remote note under `parent`.
fn new_post_row(note: &IncomingNote, parent: Option<&posts::Model>, now: DateTime<Utc>) -> posts::ActiveModel {
    let (root, depth) = match parent {
        Some(p) => (Some(p.thread_root_id.unwrap_or(p.id)), p.depth.saturating_add(1)),
        None => (None, 0),
    };
    posts::ActiveModel {
        ap_id: Set(note.ap_id.clone()),
        actor_id: Set(note.author_id),
        local: Set(false),
        content_source: Set(String::new()),
        content_html: Set(note.content_html.clone()),
        sensitive: Set(note.sensitive),
        summary: Set(note.summary.clone()),
        visibility: Set(note.visibility),
        in_reply_to_ap_id: Set(note.in_reply_to.clone()),
        published_at: Set(Some(note.published)),
        scheduled_at: Set(None),
        edited_at: Set(note.updated),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        url: Set(note.url.clone()),
        in_reply_to_post_id: Set(parent.map(|p| p.id)),
        thread_root_id: Set(root),
        depth: Set(depth),
        attachments: Set(note.attachments_json.clone()),
        ..Default::default()
    }
}

/// [`store_note`] inside the caller's transaction.
async fn store_in(db: &impl ConnectionTrait, note: IncomingNote, lookups: &mut Lookups) -> Result<Stored, DbErr> {
    if let Some(existing) = lookups.post(db, &note.ap_id).await? {
        return Ok(Stored::Known(existing));
    }
    let parent = match note.in_reply_to.as_deref() {
        Some(ap_id) => lookups.post(db, ap_id).await?,
        None => None,
    };
    let now = Utc::now();
    let post = queries::posts::insert(db, new_post_row(&note, parent.as_ref(), now)).await?;
    if !note.mentions.is_empty() {
        queries::posts::replace_refs(db, post.id, note.mentions.clone(), Vec::new()).await?;
    }
    if lookups.may_be_awaited(&post.ap_id) && thread_links::relink_orphans(db, &post).await? > 0 {
        // Rows under this post changed their root and depth: what was read is stale.
        lookups.forget();
    }
    if parent.is_none()
        && let Some(wanted) = post.in_reply_to_ap_id.as_ref()
    {
        // An orphan now: a later note of the batch may be its parent.
        lookups.now_awaited(wanted);
    }
    lookups.remember(&post);
    let rows = staff_inbox::rows_for(db, &post, parent.as_ref(), &note.mentions, now, lookups).await?;
    queries::conversations::insert_new(db, rows).await?;
    Ok(Stored::Created(post))
}
