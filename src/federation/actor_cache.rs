//! Remote actors recently read or fetched, kept in memory so that verifying a known
//! sender's signature needs no database read (B2, docs/adr/0009).
//!
//! It is a cache of the `actors` table, never a source of truth: `resolve` still applies
//! the 24 h freshness rule (F6) to what it returns, a forced re-fetch (I7) bypasses it, and
//! every store or 410 through `resolve` updates or drops the entry. Writes made elsewhere
//! (another process, another code path) are seen after at most [`ActorCache::TTL`]; a
//! signature that fails against a cached key is re-checked against the database before a
//! re-fetch is claimed, so a key rotated by another process is not refused.
//!
//! Bounded with two generations, like the parsed-key cache: when the young map is full it
//! becomes the old one and the previous old one is dropped.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
    time::{Duration, Instant},
};

use crate::db::entities::actors;

/// Bounded, time-limited map from actor id (URL) to its stored row.
#[derive(Debug)]
pub struct ActorCache {
    half: usize,
    ttl: Duration,
    inner: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<String, (Instant, actors::Model)>,
    old: HashMap<String, (Instant, actors::Model)>,
}

impl ActorCache {
    /// How long an entry is served before the database is read again.
    pub const TTL: Duration = Duration::from_secs(5 * 60);
    /// The default number of actors held.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A cache holding at most `capacity` actors (at least 2) for at most `ttl` each.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self { half: (capacity / 2).max(1), ttl, inner: Mutex::new(Generations::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Generations> {
        // A panic while holding the lock cannot leave the maps inconsistent.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached row for `ap_id`, if present and younger than the TTL.
    pub fn get(&self, ap_id: &str) -> Option<actors::Model> {
        let mut g = self.lock();
        let found = match g.young.get(ap_id) {
            Some(entry) => Some(entry.clone()),
            None => {
                let moved = g.old.remove(ap_id)?;
                self.insert_young(&mut g, ap_id.to_owned(), moved.clone());
                Some(moved)
            }
        }?;
        if found.0.elapsed() < self.ttl {
            Some(found.1)
        } else {
            g.young.remove(ap_id);
            None
        }
    }

    /// Remembers a remote actor's row (local actors are never cached here).
    pub fn put(&self, actor: &actors::Model) {
        if actor.local {
            return;
        }
        let mut g = self.lock();
        g.old.remove(&actor.ap_id);
        self.insert_young(&mut g, actor.ap_id.clone(), (Instant::now(), actor.clone()));
    }

    /// Forgets `ap_id`.
    pub fn remove(&self, ap_id: &str) {
        let mut g = self.lock();
        g.young.remove(ap_id);
        g.old.remove(ap_id);
    }

    /// How many actors are held.
    pub fn len(&self) -> usize {
        let g = self.lock();
        g.young.len() + g.old.len()
    }

    /// Whether no actor is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert_young(&self, g: &mut Generations, key: String, entry: (Instant, actors::Model)) {
        if g.young.len() >= self.half && !g.young.contains_key(&key) {
            g.old = std::mem::take(&mut g.young);
        }
        g.young.insert(key, entry);
    }
}

impl Default for ActorCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY, Self::TTL)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn actor(n: usize, local: bool) -> actors::Model {
        let now = Utc::now();
        actors::Model {
            id: n as i64,
            ap_id: format!("https://remote.example/users/u{n}"),
            username: format!("u{n}"),
            domain: "remote.example".into(),
            local,
            kind: crate::domain::ActorKind::Remote,
            display_name: String::new(),
            summary: String::new(),
            profile_fields: "[]".into(),
            inbox_url: None,
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            profile_url: None,
            icon_url: None,
            image_url: None,
            public_key_pem: "pem".into(),
            public_key_id: format!("https://remote.example/users/u{n}#main-key"),
            manually_approves_followers: false,
            discoverable: true,
            published: now,
            created_at: now,
            updated_at: now,
            last_fetched_at: Some(now),
            ap_type: None,
            following_url: None,
            key_refetched_at: None,
            also_known_as: None,
            moved_to_ap_id: None,
            deleted_at: None,
        }
    }

    #[test]
    fn holds_at_most_its_capacity_and_keeps_recent_entries() {
        let cache = ActorCache::new(10, Duration::from_secs(60));
        for n in 0..100 {
            cache.put(&actor(n, false));
            assert!(cache.len() <= 10, "len {} after {n}", cache.len());
        }
        assert!(cache.get(&actor(99, false).ap_id).is_some());
        assert!(cache.get(&actor(0, false).ap_id).is_none());
    }

    #[test]
    fn expires_removes_and_skips_local_actors() {
        let cache = ActorCache::new(10, Duration::from_millis(30));
        let a = actor(1, false);
        cache.put(&a);
        assert_eq!(cache.get(&a.ap_id), Some(a.clone()));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&a.ap_id), None, "expired");
        cache.put(&a);
        cache.remove(&a.ap_id);
        assert_eq!(cache.get(&a.ap_id), None, "removed");
        cache.put(&actor(2, true));
        assert!(cache.is_empty(), "local actors are not cached");
    }
}
