//! Rendered thread pages, kept in memory and served again while nothing they show changed.
//!
//! A post's page with its whole thread is the most expensive thing we serve (hundreds
//! of rows decoded, escaped and written), and the most read: a product
//! update linked from a newsletter is opened thousands of times between two replies. Each
//! request still looks the post up (it may have been deleted or hidden) and asks the database
//! for the thread's [`Stamp`]: one aggregate query. When the stamp equals the cached one, the
//! cached bytes are served; otherwise the page is rendered and stored.
//!
//! The stamp covers what the page shows: the root post (its edits, counts and author), every
//! reply (count, last update, last delete, summed likes and boosts) and the instance name.
//! A reply author's profile change (display name) is not in it; entries therefore also expire
//! after [`MAX_AGE`], which bounds that staleness. Several processes may share one database:
//! the stamp comes from the database, so a reply stored by another process's worker shows on
//! the next request. Bounded by total bytes ([`BUDGET`]); the oldest entries go first.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::body::Bytes;
use chrono::{DateTime, Utc};

use crate::db::queries::threads::ThreadStamp;

/// Longest an entry is served without being rendered again.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Most bytes of rendered pages kept.
pub const BUDGET: usize = 16 * 1024 * 1024;

/// Everything a thread page depends on, as read on this request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub root_updated: DateTime<Utc>,
    pub root_edited: Option<DateTime<Utc>>,
    pub root_likes: i32,
    pub root_announces: i32,
    pub author_updated: DateTime<Utc>,
    pub instance_name: String,
    pub thread: ThreadStamp,
}

impl Stamp {
    /// A short validator for `ETag`, stable for equal stamps within one build.
    pub fn etag(&self, post_id: i64, page: u64) -> String {
        use std::hash::{Hash, Hasher};
        // SipHash with fixed keys: the same stamp gives the same tag in every process.
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new();
        (post_id, page).hash(&mut h);
        self.root_updated.timestamp_micros().hash(&mut h);
        self.root_edited.map(|t| t.timestamp_micros()).hash(&mut h);
        (self.root_likes, self.root_announces).hash(&mut h);
        self.author_updated.timestamp_micros().hash(&mut h);
        self.instance_name.hash(&mut h);
        let t = &self.thread;
        (t.replies, t.likes, t.announces).hash(&mut h);
        t.last_updated.map(|t| t.timestamp_micros()).hash(&mut h);
        t.last_deleted.map(|t| t.timestamp_micros()).hash(&mut h);
        format!("W/\"{:016x}\"", h.finish())
    }
}

struct Entry {
    stamp: Stamp,
    body: Bytes,
    stored: Instant,
}

/// The cache: (post id, page) → the page as last rendered. Cheap to share (`AppState`).
#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<(i64, u64), Entry>,
    bytes: usize,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (entries, bytes) = self.inner.lock().map(|i| (i.entries.len(), i.bytes)).unwrap_or_default();
        f.debug_struct("PageCache").field("entries", &entries).field("bytes", &bytes).finish()
    }
}

impl PageCache {
    /// The page rendered for exactly this stamp, if it is still fresh.
    pub fn get(&self, post_id: i64, page: u64, stamp: &Stamp) -> Option<Bytes> {
        let inner = self.inner.lock().ok()?;
        let entry = inner.entries.get(&(post_id, page))?;
        (entry.stamp == *stamp && entry.stored.elapsed() < MAX_AGE).then(|| entry.body.clone())
    }

    /// Keeps `body` as the page for `stamp`, dropping the oldest entries beyond [`BUDGET`].
    /// A page larger than the whole budget is not kept.
    pub fn put(&self, post_id: i64, page: u64, stamp: Stamp, body: Bytes) {
        if body.len() > BUDGET {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        let added = body.len();
        if let Some(old) = inner.entries.insert((post_id, page), Entry { stamp, body, stored: Instant::now() }) {
            inner.bytes = inner.bytes.saturating_sub(old.body.len());
        }
        inner.bytes = inner.bytes.saturating_add(added);
        while inner.bytes > BUDGET {
            let Some(oldest) = inner.entries.iter().min_by_key(|(_, e)| e.stored).map(|(k, _)| *k) else { break };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes = inner.bytes.saturating_sub(gone.body.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn stamp(replies: i64) -> Stamp {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        Stamp {
            root_updated: at,
            root_edited: None,
            root_likes: 0,
            root_announces: 0,
            author_updated: at,
            instance_name: "Acme".into(),
            thread: ThreadStamp { replies, last_updated: Some(at), last_deleted: None, likes: 0, announces: 0 },
        }
    }

    #[test]
    fn serves_only_the_same_stamp() {
        let cache = PageCache::default();
        cache.put(1, 1, stamp(3), Bytes::from_static(b"three replies"));
        assert_eq!(cache.get(1, 1, &stamp(3)).as_deref(), Some(&b"three replies"[..]));
        assert!(cache.get(1, 1, &stamp(4)).is_none(), "a new reply changes the stamp");
        assert!(cache.get(1, 2, &stamp(3)).is_none(), "pages are apart");
        assert!(cache.get(2, 1, &stamp(3)).is_none(), "posts are apart");
        assert_ne!(stamp(3).etag(1, 1), stamp(4).etag(1, 1));
        assert_eq!(stamp(3).etag(1, 1), stamp(3).etag(1, 1));
    }

    #[test]
    fn stays_within_its_budget() {
        let cache = PageCache::default();
        let page = Bytes::from(vec![b'x'; BUDGET / 4 + 1]);
        for id in 0..10 {
            cache.put(id, 1, stamp(1), page.clone());
        }
        let inner = cache.inner.lock().unwrap();
        assert!(inner.bytes <= BUDGET);
        assert_eq!(inner.entries.len(), 3);
        assert!(inner.entries.contains_key(&(9, 1)), "the newest stays");
        drop(inner);
        cache.put(99, 1, stamp(1), Bytes::from(vec![b'x'; BUDGET + 1]));
        assert!(cache.get(99, 1, &stamp(1)).is_none(), "larger than the budget: not kept");
    }
}
