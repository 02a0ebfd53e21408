//! Conversations: what other servers say to and about our accounts. Remote notes (replies
//! in our threads, mentions of our actors) stored and threaded, their edits and deletes,
//! likes and announces counted, reports, blocks, moves and deleted actors.
//!
//! The federation wing has already checked origins and parsed the wire documents; these
//! functions get plain values and own their transactions. Each is idempotent: the same
//! input twice changes nothing the second time. Threading is described in
//! `docs/adr/0008-remote-notes-and-threads.md`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    db::{
        entities::{actors, blocks, conversations, follows, post_mentions, posts, reactions, reports},
        queries,
    },
    error::{AppError, AppResult},
};

/// Ids per `IN (…)` list when a batch of notes is prefetched.
const PREFETCH_CHUNK: usize = 200;

/// Stored `visibility` of a note addressed only to the actors it names.
pub const DIRECT: &str = "direct";

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
    pub visibility: String,
    /// What it answers, as it says.
    pub in_reply_to: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    /// JSON array of `{url, media_type, name}`, capped.
    pub attachments_json: Option<String>,
    /// Local actors it mentions (with a `Mention` tag) and addresses: `(actor id, href, name)`.
    pub mentions: Vec<(i64, String, String)>,
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
        let new = matches!(lookups.posts.get(&note.ap_id), Some(None)) && seen.get(note.ap_id.as_str()) == Some(&1);
        let parent = note.in_reply_to.as_ref().and_then(|p| lookups.posts.get(p).cloned().flatten());
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
    let inserted = posts::Entity::insert_many(rows).exec_with_returning(db).await?;
    let by_ap_id: HashMap<String, posts::Model> = inserted.into_iter().map(|p| (p.ap_id.clone(), p)).collect();
    let mut mentions = Vec::new();
    let mut conversation = Vec::new();
    for (i, note, parent) in &chosen {
        let Some(post) = by_ap_id.get(&note.ap_id) else {
            return Err(DbErr::Custom(format!("{} was not returned by its insert", note.ap_id)));
        };
        mentions.extend(note.mentions.iter().map(|(actor_id, href, name)| post_mentions::ActiveModel {
            post_id: Set(post.id),
            actor_id: Set(*actor_id),
            href: Set(href.clone()),
            name: Set(name.clone()),
            ..Default::default()
        }));
        conversation.extend(conversation_rows(db, post, Some(parent), &note.mentions, now, lookups).await?);
        lookups.posts.insert(post.ap_id.clone(), Some(post.clone()));
        stored.insert(*i, post.clone());
    }
    if !mentions.is_empty() {
        post_mentions::Entity::insert_many(mentions).exec_without_returning(db).await?;
    }
    insert_conversations(db, conversation).await?;
    Ok(stored)
}

/// Rows read during one transaction, so that a batch reads each parent, root and actor once.
/// Only valid inside that transaction; emptied when re-linking orphans changes rows.
#[derive(Default)]
struct Lookups {
    /// By ActivityPub id (`None`: looked up, not there).
    posts: HashMap<String, Option<posts::Model>>,
    actors: HashMap<i64, Option<actors::Model>>,
    /// `Some`: the only ids that stored orphans wait for (read once for a batch, and grown as
    /// it stores orphans); `None`: unknown, ask the database.
    awaited: Option<std::collections::HashSet<String>>,
}

impl Lookups {
    /// Reads what a batch of notes needs in two queries instead of two per note: the notes
    /// themselves and their parents (stored or not), and which of the notes an orphan awaits.
    async fn prefetch(&mut self, db: &impl ConnectionTrait, notes: &[IncomingNote]) -> Result<(), DbErr> {
        let mut wanted: Vec<&str> = notes.iter().map(|n| n.ap_id.as_str()).collect();
        wanted.extend(notes.iter().filter_map(|n| n.in_reply_to.as_deref()));
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(PREFETCH_CHUNK) {
            let found = posts::Entity::find().filter(posts::Column::ApId.is_in(chunk.iter().copied())).all(db).await?;
            for ap_id in chunk {
                self.posts.entry((*ap_id).to_owned()).or_insert(None);
            }
            for post in found {
                self.posts.insert(post.ap_id.clone(), Some(post));
            }
        }
        let ids: Vec<&str> = notes.iter().map(|n| n.ap_id.as_str()).collect();
        let mut awaited = std::collections::HashSet::new();
        for chunk in ids.chunks(PREFETCH_CHUNK) {
            // Orphans only: the answers already linked are left out here, not in SQL (see
            // `answering`, for the index this keeps).
            let answers: Vec<(Option<String>, Option<i64>)> = queries::posts::answering(chunk.iter().copied())
                .select_only()
                .column(posts::Column::InReplyToApId)
                .column(posts::Column::InReplyToPostId)
                .into_tuple()
                .all(db)
                .await?;
            awaited.extend(answers.into_iter().filter(|(_, linked)| linked.is_none()).filter_map(|(wanted, _)| wanted));
        }
        self.awaited = Some(awaited);
        Ok(())
    }

    /// Whether a stored orphan may be waiting for `ap_id`.
    fn may_be_awaited(&self, ap_id: &str) -> bool {
        self.awaited.as_ref().is_none_or(|awaited| awaited.contains(ap_id))
    }

    async fn post(&mut self, db: &impl ConnectionTrait, ap_id: &str) -> Result<Option<posts::Model>, DbErr> {
        if let Some(found) = self.posts.get(ap_id) {
            return Ok(found.clone());
        }
        let found = queries::posts::find_by_ap_id(db, ap_id).await?;
        self.posts.insert(ap_id.to_owned(), found.clone());
        Ok(found)
    }

    async fn post_by_id(&mut self, db: &impl ConnectionTrait, id: i64) -> Result<Option<posts::Model>, DbErr> {
        if let Some(found) = self.posts.values().flatten().find(|p| p.id == id) {
            return Ok(Some(found.clone()));
        }
        let found = queries::posts::find(db, id).await?;
        if let Some(post) = &found {
            self.posts.insert(post.ap_id.clone(), Some(post.clone()));
        }
        Ok(found)
    }

    async fn actor(&mut self, db: &impl ConnectionTrait, id: i64) -> Result<Option<actors::Model>, DbErr> {
        if let Some(found) = self.actors.get(&id) {
            return Ok(found.clone());
        }
        let found = queries::actors::find(db, id).await?;
        self.actors.insert(id, found.clone());
        Ok(found)
    }
}

/// Stores a remote note (`Create{Note}`, or an ancestor fetched for a thread), links it
/// to its parent when we have it, re-links orphans waiting for it, and records the
/// conversations-inbox rows for the local actors it replies to or mentions.
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
        visibility: Set(note.visibility.clone()),
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
    if lookups.may_be_awaited(&post.ap_id) && relink_orphans(db, &post).await? > 0 {
        // Rows under this post changed their root and depth: what was read is stale.
        lookups.posts.clear();
        lookups.awaited = None;
    }
    if parent.is_none()
        && let (Some(awaited), Some(wanted)) = (lookups.awaited.as_mut(), post.in_reply_to_ap_id.as_ref())
    {
        // An orphan now: a later note of the batch may be its parent.
        awaited.insert(wanted.clone());
    }
    lookups.posts.insert(post.ap_id.clone(), Some(post.clone()));
    let rows = conversation_rows(db, &post, parent.as_ref(), &note.mentions, now, lookups).await?;
    insert_conversations(db, rows).await?;
    Ok(Stored::Created(post))
}

/// Moves the orphans that answer `parent` (a stored post) under it, in a write transaction
/// of their own; returns how many moved. For an orphan whose parent was stored by another
/// worker at the same time: on PostgreSQL each transaction read before the other committed,
/// so the parent's store could not see the orphan to re-link it.
pub async fn link_orphans_of(db: &DatabaseConnection, parent: &posts::Model) -> AppResult<usize> {
    let txn = crate::db::begin_write(db).await?;
    let moved = relink_orphans(&txn, parent).await?;
    txn.commit().await?;
    if moved > 0 {
        tracing::info!(post = parent.id, moved, "orphans linked under a post stored meanwhile");
    }
    Ok(moved)
}

/// Orphans that answer `post` move under it, with their whole subtree: two `UPDATE`s per
/// orphan. An orphan that roots the subtree `post` itself is in (a cycle) stays put.
async fn relink_orphans(db: &impl ConnectionTrait, post: &posts::Model) -> Result<usize, DbErr> {
    let answers =
        queries::posts::answering([post.ap_id.as_str()]).filter(posts::Column::Id.ne(post.id)).all(db).await?;
    let orphans = answers.into_iter().filter(|answer| answer.in_reply_to_post_id.is_none());
    let root = post.thread_root_id.unwrap_or(post.id);
    let mut moved = 0;
    let mut addressed: Option<Addressed> = None;
    for orphan in orphans {
        if orphan.id == root {
            tracing::warn!(post = post.id, orphan = orphan.id, "reply cycle: not re-linked");
            continue;
        }
        let addressed = match &mut addressed {
            Some(found) => found,
            None => addressed.insert(Addressed::under(db, post).await?),
        };
        addressed.record(db, &orphan, root).await?;
        let depth = post.depth.saturating_add(1);
        posts::Entity::update_many()
            .col_expr(posts::Column::ThreadRootId, Expr::value(root))
            .col_expr(posts::Column::Depth, Expr::col(posts::Column::Depth).add(depth))
            .filter(posts::Column::ThreadRootId.eq(orphan.id))
            .exec(db)
            .await?;
        posts::Entity::update_many()
            .col_expr(posts::Column::InReplyToPostId, Expr::value(post.id))
            .col_expr(posts::Column::ThreadRootId, Expr::value(root))
            .col_expr(posts::Column::Depth, Expr::value(depth))
            .col_expr(posts::Column::ParentFetchAfter, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(posts::Column::Id.eq(orphan.id))
            .exec(db)
            .await?;
        conversations::Entity::update_many()
            .col_expr(conversations::Column::ThreadRootId, Expr::value(root))
            .filter(conversations::Column::ThreadRootId.eq(orphan.id))
            .exec(db)
            .await?;
        moved += 1;
    }
    Ok(moved)
}

/// Who a re-linked orphan and its subtree now reply to: the local authors of the new parent
/// and of the thread's root (our accounts, not the instance actor).
struct Addressed {
    /// The authors an orphan answers directly (parent and root).
    orphan: Vec<i64>,
    /// The root's author, whom the orphan's own answers reach through the thread.
    subtree: Vec<i64>,
}

impl Addressed {
    async fn under(db: &impl ConnectionTrait, parent: &posts::Model) -> Result<Self, DbErr> {
        let mut lookups = Lookups::default();
        let (parent_author, root_author) = local_authors_above(db, parent, &mut lookups).await?;
        let mut orphan = Vec::new();
        for actor_id in [parent_author, root_author].into_iter().flatten() {
            if !orphan.contains(&actor_id) && lookups.actor(db, actor_id).await?.is_some_and(|a| has_inbox(&a)) {
                orphan.push(actor_id);
            }
        }
        let subtree = root_author.filter(|id| orphan.contains(id)).into_iter().collect();
        Ok(Self { orphan, subtree })
    }

    /// Conversations-inbox rows for `orphan` and the remote posts of its subtree, as if they
    /// had arrived in order (kept as they are where they exist, as mentions say). Called
    /// before the subtree moves to `root`.
    async fn record(&self, db: &impl ConnectionTrait, orphan: &posts::Model, root: i64) -> Result<(), DbErr> {
        if self.orphan.is_empty() {
            return Ok(());
        }
        let row =
            |actor_id, post_id, received_at| inbox_row(actor_id, post_id, conversations::KIND_REPLY, root, received_at);
        let mut rows: Vec<_> = self.orphan.iter().map(|actor| row(*actor, orphan.id, orphan.created_at)).collect();
        if !self.subtree.is_empty() {
            let below: Vec<(i64, DateTime<Utc>)> = posts::Entity::find()
                .select_only()
                .column(posts::Column::Id)
                .column(posts::Column::CreatedAt)
                .filter(posts::Column::ThreadRootId.eq(orphan.id))
                .filter(posts::Column::Local.eq(false))
                .into_tuple()
                .all(db)
                .await?;
            for (id, created_at) in below {
                rows.extend(self.subtree.iter().map(|actor| row(*actor, id, created_at)));
            }
        }
        // A subtree can be large: bounded statements (7 values a row).
        const ROWS_PER_INSERT: usize = 500;
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
            insert_conversations(db, std::mem::replace(&mut rows, rest)).await?;
        }
        Ok(())
    }
}

/// The conversations-inbox rows of a stored note: one per local actor it replies to (the
/// parent's or the thread root's local author) or mentions. The instance actor has no inbox.
async fn conversation_rows(
    db: &impl ConnectionTrait,
    post: &posts::Model,
    parent: Option<&posts::Model>,
    mentions: &[(i64, String, String)],
    now: DateTime<Utc>,
    lookups: &mut Lookups,
) -> Result<Vec<conversations::ActiveModel>, DbErr> {
    let mut addressed: Vec<(i64, &'static str)> = Vec::new();
    if let Some(parent) = parent {
        let (parent_author, root_author) = local_authors_above(db, parent, lookups).await?;
        for actor_id in [parent_author, root_author].into_iter().flatten() {
            if !addressed.iter().any(|(id, _)| *id == actor_id) {
                addressed.push((actor_id, conversations::KIND_REPLY));
            }
        }
    }
    for (actor_id, _, _) in mentions {
        if !addressed.iter().any(|(id, _)| id == actor_id) {
            addressed.push((*actor_id, conversations::KIND_MENTION));
        }
    }
    let root = post.thread_root_id.unwrap_or(post.id);
    let mut rows = Vec::with_capacity(addressed.len());
    for (actor_id, kind) in addressed {
        if lookups.actor(db, actor_id).await?.is_some_and(|a| has_inbox(&a)) {
            rows.push(inbox_row(actor_id, post.id, kind, root, now));
        }
    }
    Ok(rows)
}

/// The authors of `parent` and of its thread's root, each when that post is one of ours: the
/// accounts a reply under `parent` answers.
async fn local_authors_above(
    db: &impl ConnectionTrait,
    parent: &posts::Model,
    lookups: &mut Lookups,
) -> Result<(Option<i64>, Option<i64>), DbErr> {
    let root = match parent.thread_root_id {
        Some(root_id) => lookups.post_by_id(db, root_id).await?,
        None => Some(parent.clone()),
    };
    let local_author = |post: Option<&posts::Model>| post.filter(|p| p.local).map(|p| p.actor_id);
    Ok((local_author(Some(parent)), local_author(root.as_ref())))
}

/// Whether `actor` has a conversations inbox: one of our accounts, not the instance actor.
fn has_inbox(actor: &actors::Model) -> bool {
    actor.local && actor.kind != queries::actors::INSTANCE_KIND
}

/// A new, unanswered conversations-inbox row.
fn inbox_row(
    actor_id: i64,
    post_id: i64,
    kind: &str,
    thread_root_id: i64,
    received_at: DateTime<Utc>,
) -> conversations::ActiveModel {
    conversations::ActiveModel {
        actor_id: Set(actor_id),
        post_id: Set(post_id),
        kind: Set(kind.to_owned()),
        thread_root_id: Set(thread_root_id),
        received_at: Set(received_at),
        answered_at: Set(None),
        answer_post_id: Set(None),
        ..Default::default()
    }
}

/// Inserts conversations-inbox rows, skipping those that exist (one per actor and post).
async fn insert_conversations(db: &impl ConnectionTrait, rows: Vec<conversations::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    conversations::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([conversations::Column::ActorId, conversations::Column::PostId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// What an `Update{Note}` may change.
#[derive(Clone, Debug)]
pub struct NoteEdit {
    pub content_html: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    pub updated: DateTime<Utc>,
    pub attachments_json: Option<String>,
}

/// What became of an edit or a delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Applied.
    Applied,
    /// Nothing to do (unknown, already so, or older than what we have).
    Unchanged,
}

/// A remote author edits its note. Never creates; only the author; a stale edit (older
/// than the stored one) is ignored, so replays change nothing.
pub async fn edit_note(
    db: &DatabaseConnection,
    author: &actors::Model,
    ap_id: &str,
    edit: NoteEdit,
) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let Some(post) = queries::posts::find_by_ap_id(&txn, ap_id).await? else { return Ok(Change::Unchanged) };
    check_owner(&post, author)?;
    if post.deleted_at.is_some() || post.edited_at.is_some_and(|at| at >= edit.updated) {
        return Ok(Change::Unchanged);
    }
    if post.published_at.is_some_and(|at| at > edit.updated) {
        return Ok(Change::Unchanged);
    }
    posts::Entity::update_many()
        .col_expr(posts::Column::ContentHtml, Expr::value(edit.content_html))
        .col_expr(posts::Column::Summary, Expr::value(edit.summary))
        .col_expr(posts::Column::Sensitive, Expr::value(edit.sensitive))
        .col_expr(posts::Column::EditedAt, Expr::value(edit.updated))
        .col_expr(posts::Column::Attachments, Expr::value(edit.attachments_json))
        .col_expr(posts::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(posts::Column::Id.eq(post.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Change::Applied)
}

fn check_owner(post: &posts::Model, author: &actors::Model) -> AppResult<()> {
    if post.local || author.local || post.actor_id != author.id {
        return Err(AppError::forbidden("only a note's author may change it"));
    }
    Ok(())
}

/// A remote author deletes its note: the row stays in the tree as a tombstone (content
/// gone), its inbox rows, mentions and reactions go.
///
/// A note we never stored is remembered as deleted by this author for
/// [`DELETE_REMEMBERED`] (I13): its `Create` may still be on its way, out of order.
pub async fn delete_note(db: &DatabaseConnection, author: &actors::Model, ap_id: &str) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let Some(post) = queries::posts::find_by_ap_id(&txn, ap_id).await? else {
        queries::deleted_objects::remember(&txn, ap_id, author.id, Utc::now()).await?;
        txn.commit().await?;
        return Ok(Change::Unchanged);
    };
    check_owner(&post, author)?;
    if post.deleted_at.is_some() {
        return Ok(Change::Unchanged);
    }
    tombstone_posts(&txn, Condition::all().add(posts::Column::Id.eq(post.id))).await?;
    txn.commit().await?;
    Ok(Change::Applied)
}

/// Soft-deletes the posts `which` selects, and removes what hangs off them.
async fn tombstone_posts(db: &impl ConnectionTrait, which: Condition) -> Result<u64, DbErr> {
    let ids: Vec<i64> = posts::Entity::find()
        .select_only()
        .column(posts::Column::Id)
        .filter(which)
        .filter(posts::Column::DeletedAt.is_null())
        .filter(posts::Column::Local.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    for chunk in ids.chunks(500) {
        posts::Entity::update_many()
            .col_expr(posts::Column::ContentHtml, Expr::value(""))
            .col_expr(posts::Column::Summary, Expr::value(Option::<String>::None))
            .col_expr(posts::Column::Attachments, Expr::value(Option::<String>::None))
            .col_expr(posts::Column::DeletedAt, Expr::value(now))
            .col_expr(posts::Column::UpdatedAt, Expr::value(now))
            .col_expr(posts::Column::ParentFetchAfter, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(posts::Column::LikesCount, Expr::value(0))
            .col_expr(posts::Column::AnnouncesCount, Expr::value(0))
            .filter(posts::Column::Id.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
        conversations::Entity::delete_many()
            .filter(conversations::Column::PostId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
        post_mentions::Entity::delete_many()
            .filter(post_mentions::Column::PostId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
        reactions::Entity::delete_many().filter(reactions::Column::PostId.is_in(chunk.to_vec())).exec(db).await?;
    }
    Ok(ids.len() as u64)
}

/// A like or an announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    Like,
    Announce,
}

impl Reaction {
    /// The stored `kind`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Like => reactions::KIND_LIKE,
            Self::Announce => reactions::KIND_ANNOUNCE,
        }
    }

    /// From the stored `kind`.
    pub fn from_kind(kind: &str) -> Option<Self> {
        match kind {
            reactions::KIND_LIKE => Some(Self::Like),
            reactions::KIND_ANNOUNCE => Some(Self::Announce),
            _ => None,
        }
    }

    fn counter(self) -> posts::Column {
        match self {
            Self::Like => posts::Column::LikesCount,
            Self::Announce => posts::Column::AnnouncesCount,
        }
    }
}

/// A remote actor likes or announces a post we have. Counted once per actor and post.
pub async fn react(
    db: &DatabaseConnection,
    actor: &actors::Model,
    post_ap_id: &str,
    reaction: Reaction,
    activity_ap_id: &str,
) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let Some(post) = queries::posts::find_by_ap_id(&txn, post_ap_id).await? else { return Ok(Change::Unchanged) };
    if post.deleted_at.is_some() || post.published_at.is_none() {
        return Ok(Change::Unchanged);
    }
    let existing = reactions::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(reactions::Column::PostId.eq(post.id))
                        .add(reactions::Column::ActorId.eq(actor.id))
                        .add(reactions::Column::Kind.eq(reaction.kind())),
                )
                .add(reactions::Column::ApId.eq(activity_ap_id)),
        )
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Ok(Change::Unchanged);
    }
    add_reaction(&txn, post.id, actor.id, reaction, activity_ap_id).await?;
    txn.commit().await?;
    Ok(Change::Applied)
}

/// Stores a like or announce of `post_id` by `actor_id` (remote or ours) and counts it.
pub(crate) async fn add_reaction(
    db: &impl ConnectionTrait,
    post_id: i64,
    actor_id: i64,
    reaction: Reaction,
    ap_id: &str,
) -> Result<reactions::Model, DbErr> {
    let row = reactions::Entity::insert(reactions::ActiveModel {
        post_id: Set(post_id),
        actor_id: Set(actor_id),
        kind: Set(reaction.kind().to_owned()),
        ap_id: Set(ap_id.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    bump(db, post_id, reaction, 1).await?;
    Ok(row)
}

/// Removes a stored like or announce and uncounts it; `false` when it was gone already.
pub(crate) async fn remove_reaction(
    db: &impl ConnectionTrait,
    row: &reactions::Model,
    reaction: Reaction,
) -> Result<bool, DbErr> {
    let gone = reactions::Entity::delete_by_id(row.id).exec(db).await?;
    if gone.rows_affected == 0 {
        return Ok(false);
    }
    bump(db, row.post_id, reaction, -1).await?;
    Ok(true)
}

/// Moves a post's like or announce counter by `by`.
async fn bump(db: &impl ConnectionTrait, post_id: i64, reaction: Reaction, by: i32) -> Result<(), DbErr> {
    let column = reaction.counter();
    posts::Entity::update_many()
        .col_expr(column, Expr::col(column).add(by))
        .filter(posts::Column::Id.eq(post_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// How an `Undo` names the reaction it withdraws.
#[derive(Clone, Debug)]
pub enum ReactionRef {
    /// By the `Like`/`Announce` activity id.
    Activity(String),
    /// By the post it was about.
    Post(String),
}

/// A remote actor withdraws its like or announce (only its own).
pub async fn unreact(
    db: &DatabaseConnection,
    actor: &actors::Model,
    reaction: Reaction,
    which: ReactionRef,
) -> AppResult<Change> {
    let txn = crate::db::begin_write(db).await?;
    let mut query = reactions::Entity::find()
        .filter(reactions::Column::ActorId.eq(actor.id))
        .filter(reactions::Column::Kind.eq(reaction.kind()));
    query = match &which {
        ReactionRef::Activity(ap_id) => query.filter(reactions::Column::ApId.eq(ap_id.as_str())),
        ReactionRef::Post(post_ap_id) => match queries::posts::find_by_ap_id(&txn, post_ap_id).await? {
            Some(post) => query.filter(reactions::Column::PostId.eq(post.id)),
            None => return Ok(Change::Unchanged),
        },
    };
    let Some(row) = query.one(&txn).await? else { return Ok(Change::Unchanged) };
    remove_reaction(&txn, &row, reaction).await?;
    txn.commit().await?;
    Ok(Change::Applied)
}

/// A remote actor was deleted: its notes become tombstones, its likes, announces, follows
/// (both ways) and blocks go, and the row stays marked deleted.
pub async fn actor_deleted(db: &DatabaseConnection, actor: &actors::Model) -> AppResult<Change> {
    if actor.local {
        return Err(AppError::forbidden("a local actor is not deleted from outside"));
    }
    let txn = crate::db::begin_write(db).await?;
    let Some(current) = queries::actors::find(&txn, actor.id).await? else { return Ok(Change::Unchanged) };
    if current.deleted_at.is_some() {
        return Ok(Change::Unchanged);
    }
    tombstone_posts(&txn, Condition::all().add(posts::Column::ActorId.eq(actor.id))).await?;
    let given = reactions::Entity::find().filter(reactions::Column::ActorId.eq(actor.id)).all(&txn).await?;
    for row in given {
        reactions::Entity::delete_by_id(row.id).exec(&txn).await?;
        let reaction = if row.kind == reactions::KIND_LIKE { Reaction::Like } else { Reaction::Announce };
        bump(&txn, row.post_id, reaction, -1).await?;
    }
    follows::Entity::delete_many()
        .filter(
            Condition::any()
                .add(follows::Column::FollowerId.eq(actor.id))
                .add(follows::Column::FolloweeId.eq(actor.id)),
        )
        .exec(&txn)
        .await?;
    blocks::Entity::delete_many().filter(blocks::Column::ActorId.eq(actor.id)).exec(&txn).await?;
    actors::Entity::update_many()
        .col_expr(actors::Column::DeletedAt, Expr::value(Utc::now()))
        .col_expr(actors::Column::Summary, Expr::value(""))
        .col_expr(actors::Column::DisplayName, Expr::value(""))
        .filter(actors::Column::Id.eq(actor.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(actor = %actor.ap_id, "remote actor deleted");
    Ok(Change::Applied)
}

/// A report (`Flag`) for moderators.
#[derive(Clone, Debug)]
pub struct IncomingReport {
    /// The `Flag` id.
    pub ap_id: String,
    /// The comment, plain text, capped.
    pub content: String,
    /// The object ids it names, capped.
    pub object_ap_ids: Vec<String>,
    /// The local actor it is about, if any.
    pub target_actor_id: Option<i64>,
}

/// Stores a report once per `Flag` id.
pub async fn receive_report(
    db: &DatabaseConnection,
    reporter: &actors::Model,
    report: IncomingReport,
) -> AppResult<Change> {
    let objects = serde_json::to_string(&report.object_ap_ids).map_err(AppError::internal)?;
    let txn = crate::db::begin_write(db).await?;
    let known = reports::Entity::find().filter(reports::Column::ApId.eq(report.ap_id.as_str())).one(&txn).await?;
    if known.is_some() {
        return Ok(Change::Unchanged);
    }
    reports::Entity::insert(reports::ActiveModel {
        ap_id: Set(report.ap_id),
        reporter_actor_id: Set(reporter.id),
        target_actor_id: Set(report.target_actor_id),
        content: Set(report.content),
        object_ap_ids: Set(objects),
        received_at: Set(Utc::now()),
        resolved_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(reporter = %reporter.ap_id, "report received");
    Ok(Change::Applied)
}

/// Reports, newest first (for moderators and tests).
pub async fn reports(db: &DatabaseConnection, limit: u64) -> AppResult<Vec<reports::Model>> {
    Ok(reports::Entity::find().order_by_desc(reports::Column::Id).limit(limit).all(db).await?)
}

/// A remote actor blocks a local one: the follows between them end (both ways) and our
/// deliveries from that local actor skip it from now on.
pub async fn receive_block(
    db: &DatabaseConnection,
    blocker: &actors::Model,
    target: &actors::Model,
    block_ap_id: &str,
) -> AppResult<Change> {
    if blocker.local || !target.local {
        return Err(AppError::bad_request("blocks are received from remote actors for local accounts"));
    }
    let txn = crate::db::begin_write(db).await?;
    let known = blocks::Entity::find()
        .filter(blocks::Column::ActorId.eq(blocker.id))
        .filter(blocks::Column::TargetActorId.eq(target.id))
        .one(&txn)
        .await?;
    if known.is_some() {
        return Ok(Change::Unchanged);
    }
    blocks::Entity::insert(blocks::ActiveModel {
        actor_id: Set(blocker.id),
        target_actor_id: Set(target.id),
        ap_id: Set(block_ap_id.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    follows::Entity::delete_many()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(follows::Column::FollowerId.eq(blocker.id))
                        .add(follows::Column::FolloweeId.eq(target.id)),
                )
                .add(
                    Condition::all()
                        .add(follows::Column::FollowerId.eq(target.id))
                        .add(follows::Column::FolloweeId.eq(blocker.id)),
                ),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(blocker = %blocker.ap_id, target = %target.ap_id, "block received");
    Ok(Change::Applied)
}

/// How an `Undo{Block}` names the block.
#[derive(Clone, Debug)]
pub enum BlockRef {
    /// By the `Block` activity id.
    Activity(String),
    /// By the local actor blocked.
    Target(i64),
}

/// The blocker lifts its block (only its own).
pub async fn receive_unblock(db: &DatabaseConnection, blocker: &actors::Model, which: BlockRef) -> AppResult<Change> {
    let query = blocks::Entity::delete_many().filter(blocks::Column::ActorId.eq(blocker.id));
    let query = match which {
        BlockRef::Activity(ap_id) => query.filter(blocks::Column::ApId.eq(ap_id)),
        BlockRef::Target(id) => query.filter(blocks::Column::TargetActorId.eq(id)),
    };
    let writer = crate::db::writer(db).await?;
    let done = query.exec(writer.connection()).await?;
    Ok(if done.rows_affected > 0 { Change::Applied } else { Change::Unchanged })
}

/// Local accounts that follow (or asked to follow) `actor_id`.
pub async fn local_followers_of(db: &DatabaseConnection, actor_id: i64) -> AppResult<Vec<actors::Model>> {
    let ids: Vec<i64> = follows::Entity::find()
        .select_only()
        .column(follows::Column::FollowerId)
        .filter(follows::Column::FolloweeId.eq(actor_id))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(actors::Entity::find()
        .filter(actors::Column::Id.is_in(ids))
        .filter(actors::Column::Local.eq(true))
        .order_by_asc(actors::Column::Id)
        .all(db)
        .await?)
}

/// Records that a remote actor moved to `target` (after the federation wing checked the
/// target's `alsoKnownAs`). Returns false when it was already recorded.
pub async fn record_move(db: &DatabaseConnection, old: &actors::Model, target: &actors::Model) -> AppResult<bool> {
    if old.local || target.local || old.id == target.id {
        return Err(AppError::bad_request("a move is between two remote actors"));
    }
    let writer = crate::db::writer(db).await?;
    let done = actors::Entity::update_many()
        .col_expr(actors::Column::MovedToApId, Expr::value(target.ap_id.as_str()))
        .filter(actors::Column::Id.eq(old.id))
        .filter(
            Condition::any()
                .add(actors::Column::MovedToApId.is_null())
                .add(actors::Column::MovedToApId.ne(target.ap_id.as_str())),
        )
        .exec(writer.connection())
        .await?;
    Ok(done.rows_affected > 0)
}

/// An orphan note whose parent should be fetched, when the continuation is due.
pub async fn schedule_parent_fetch(
    db: &DatabaseConnection,
    post_id: i64,
    at: DateTime<Utc>,
    attempt: bool,
) -> AppResult<()> {
    let mut update = posts::Entity::update_many().col_expr(posts::Column::ParentFetchAfter, Expr::value(Some(at)));
    if attempt {
        update =
            update.col_expr(posts::Column::ParentFetchAttempts, Expr::col(posts::Column::ParentFetchAttempts).add(1));
    }
    let writer = crate::db::writer(db).await?;
    update.filter(posts::Column::Id.eq(post_id)).exec(writer.connection()).await?;
    Ok(())
}

/// Gives up fetching an orphan's parent (gone, cyclic, too deep, too many attempts): the
/// note stays a root of what we have.
pub async fn abandon_parent_fetch(db: &DatabaseConnection, post_id: i64) -> AppResult<()> {
    let writer = crate::db::writer(db).await?;
    posts::Entity::update_many()
        .col_expr(posts::Column::ParentFetchAfter, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(posts::Column::Id.eq(post_id))
        .exec(writer.connection())
        .await?;
    Ok(())
}

/// Claims up to `limit` orphans whose parent fetch is due, pushing their next time to
/// `lease_until` (a conditional update per row: one worker wins each).
pub async fn claim_due_parent_fetches(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<posts::Model>> {
    let due = posts::Entity::find()
        .filter(posts::Column::ParentFetchAfter.lte(now))
        .order_by_asc(posts::Column::ParentFetchAfter)
        .limit(limit)
        .all(db)
        .await?;
    let mut claimed = Vec::with_capacity(due.len());
    let writer = crate::db::writer(db).await?;
    for post in due {
        let done = posts::Entity::update_many()
            .col_expr(posts::Column::ParentFetchAfter, Expr::value(Some(lease_until)))
            .filter(posts::Column::Id.eq(post.id))
            .filter(posts::Column::ParentFetchAfter.eq(post.parent_fetch_after))
            .exec(writer.connection())
            .await?;
        if done.rows_affected == 1 {
            claimed.push(post);
        }
    }
    Ok(claimed)
}

/// How deep the subtree under `post_id` goes (0 when it has no stored descendants): how many
/// levels were already walked below an orphan.
pub async fn subtree_depth(db: &DatabaseConnection, post_id: i64) -> AppResult<i32> {
    let max: Option<Option<i32>> = posts::Entity::find()
        .select_only()
        .column_as(posts::Column::Depth.max(), "max_depth")
        .filter(posts::Column::ThreadRootId.eq(post_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Replies collection of a post: how many world-readable replies it has, and one page of
/// their ids, oldest first.
pub async fn replies_page(
    db: &DatabaseConnection,
    post_id: i64,
    offset: u64,
    limit: u64,
) -> AppResult<(u64, Vec<String>)> {
    use sea_orm::PaginatorTrait;
    let visible = || {
        posts::Entity::find()
            .filter(posts::Column::InReplyToPostId.eq(post_id))
            .filter(posts::Column::DeletedAt.is_null())
            .filter(posts::Column::PublishedAt.is_not_null())
            .filter(posts::Column::Visibility.is_in(["public", "unlisted"]))
    };
    let total = visible().count(db).await?;
    let ids: Vec<String> = visible()
        .select_only()
        .column(posts::Column::ApId)
        .order_by_asc(posts::Column::PublishedAt)
        .order_by_asc(posts::Column::Id)
        .offset(offset)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok((total, ids))
}

/// The conversations-inbox rows of a post (tests, the API).
pub async fn conversations_of_post(db: &DatabaseConnection, post_id: i64) -> AppResult<Vec<conversations::Model>> {
    Ok(conversations::Entity::find().filter(conversations::Column::PostId.eq(post_id)).all(db).await?)
}
