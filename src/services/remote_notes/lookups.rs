//! Rows read during one write transaction, so that a batch of notes reads each parent,
//! thread root and local actor once.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, DbErr};

use super::IncomingNote;
use crate::db::{
    entities::{actors, posts},
    queries,
};

/// Ids per `IN (…)` list when a batch of notes is prefetched.
const PREFETCH_CHUNK: usize = 200;

/// Rows read during one transaction, so that a batch reads each parent, root and actor once.
/// Only valid inside that transaction; emptied when re-linking orphans changes rows.
#[derive(Default)]
pub(crate) struct Lookups {
    /// By ActivityPub id (`None`: looked up, not there).
    posts: HashMap<String, Option<posts::Model>>,
    actors: HashMap<i64, Option<actors::Model>>,
    /// `Some`: the only ids that stored orphans wait for (read once for a batch, and grown as
    /// it stores orphans); `None`: unknown, ask the database.
    awaited: Option<HashSet<String>>,
}

impl Lookups {
    /// Reads what a batch of notes needs in two queries instead of two per note: the notes
    /// themselves and their parents (stored or not), and which of the notes an orphan awaits.
    pub(crate) async fn prefetch(&mut self, db: &impl ConnectionTrait, notes: &[IncomingNote]) -> Result<(), DbErr> {
        let mut wanted: Vec<&str> = notes.iter().map(|n| n.ap_id.as_str()).collect();
        wanted.extend(notes.iter().filter_map(|n| n.in_reply_to.as_deref()));
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(PREFETCH_CHUNK) {
            let found = queries::posts::find_by_ap_ids(db, chunk.iter().copied()).await?;
            for ap_id in chunk {
                self.posts.entry((*ap_id).to_owned()).or_insert(None);
            }
            for post in found {
                self.posts.insert(post.ap_id.clone(), Some(post));
            }
        }
        let ids: Vec<&str> = notes.iter().map(|n| n.ap_id.as_str()).collect();
        let mut awaited = HashSet::new();
        for chunk in ids.chunks(PREFETCH_CHUNK) {
            awaited.extend(queries::posts::awaited_by_orphans(db, chunk.iter().copied()).await?);
        }
        self.awaited = Some(awaited);
        Ok(())
    }

    /// Whether a stored orphan may be waiting for `ap_id`.
    pub(crate) fn may_be_awaited(&self, ap_id: &str) -> bool {
        self.awaited.as_ref().is_none_or(|awaited| awaited.contains(ap_id))
    }

    /// A new orphan waits for `ap_id` (a later note of the batch may be its parent).
    pub(crate) fn now_awaited(&mut self, ap_id: &str) {
        if let Some(awaited) = self.awaited.as_mut() {
            awaited.insert(ap_id.to_owned());
        }
    }

    /// Whether `ap_id` was looked up and is not stored.
    pub(crate) fn known_absent(&self, ap_id: &str) -> bool {
        matches!(self.posts.get(ap_id), Some(None))
    }

    /// The post `ap_id`, when it was looked up and found.
    pub(crate) fn known(&self, ap_id: &str) -> Option<posts::Model> {
        self.posts.get(ap_id).cloned().flatten()
    }

    /// A row just stored.
    pub(crate) fn remember(&mut self, post: &posts::Model) {
        self.posts.insert(post.ap_id.clone(), Some(post.clone()));
    }

    /// Rows changed underneath (orphans re-linked): what was read is stale.
    pub(crate) fn forget(&mut self) {
        self.posts.clear();
        self.awaited = None;
    }

    pub(crate) async fn post(&mut self, db: &impl ConnectionTrait, ap_id: &str) -> Result<Option<posts::Model>, DbErr> {
        if let Some(found) = self.posts.get(ap_id) {
            return Ok(found.clone());
        }
        let found = queries::posts::find_by_ap_id(db, ap_id).await?;
        self.posts.insert(ap_id.to_owned(), found.clone());
        Ok(found)
    }

    pub(crate) async fn post_by_id(
        &mut self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Option<posts::Model>, DbErr> {
        if let Some(found) = self.posts.values().flatten().find(|p| p.id == id) {
            return Ok(Some(found.clone()));
        }
        let found = queries::posts::find(db, id).await?;
        if let Some(post) = &found {
            self.posts.insert(post.ap_id.clone(), Some(post.clone()));
        }
        Ok(found)
    }

    pub(crate) async fn actor(&mut self, db: &impl ConnectionTrait, id: i64) -> Result<Option<actors::Model>, DbErr> {
        if let Some(found) = self.actors.get(&id) {
            return Ok(found.clone());
        }
        let found = queries::actors::find(db, id).await?;
        self.actors.insert(id, found.clone());
        Ok(found)
    }
}
