//! At most one forced key re-fetch per actor per 5 minutes (FEDERATION.md I7), decided in
//! memory.
//!
//! When a signature does not verify with the key we hold, the actor may have rotated its key,
//! so we look again (the table, then the actor's server). Anyone can send a request that
//! fails to verify in any actor's name, so that second look must cost the sender's victim
//! nothing: no database write, no eviction of the actor's cached copy, and no more than one
//! fetch per actor per [`KEY_REFETCH_INTERVAL`]. Each process keeps its own record (several
//! processes each allow one), bounded in size: when the record is full of recent claims a
//! further actor is refused its re-fetch until claims expire, which fails closed (401).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Minimum time between two forced key re-fetches of one actor (I7).
pub const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Actors remembered at most.
const MAX_ACTORS: usize = 100_000;

/// When each actor's key was last looked at again, by actor row id.
#[derive(Debug)]
pub struct KeyRefetches {
    claimed: Mutex<HashMap<i64, Instant>>,
    max_actors: usize,
}

impl Default for KeyRefetches {
    fn default() -> Self {
        Self::with_capacity(MAX_ACTORS)
    }
}

impl KeyRefetches {
    fn with_capacity(max_actors: usize) -> Self {
        Self { claimed: Mutex::new(HashMap::new()), max_actors }
    }

    /// Whether the key of `actor_id` may be looked at again now; if so, the claim is recorded.
    pub fn try_claim(&self, actor_id: i64, now: Instant) -> bool {
        // A poisoned lock only means another thread panicked mid-update; the map is usable.
        let mut claimed = self.claimed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let recent = |at: &Instant| now.saturating_duration_since(*at) < KEY_REFETCH_INTERVAL;
        if claimed.get(&actor_id).is_some_and(recent) {
            return false;
        }
        if !claimed.contains_key(&actor_id) && claimed.len() >= self.max_actors {
            claimed.retain(|_, at| recent(at));
            if claimed.len() >= self.max_actors {
                return false;
            }
        }
        claimed.insert(actor_id, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_actor_per_interval() {
        let refetches = KeyRefetches::default();
        let start = Instant::now();
        assert!(refetches.try_claim(1, start));
        assert!(!refetches.try_claim(1, start + Duration::from_secs(299)));
        assert!(refetches.try_claim(2, start), "another actor is not affected");
        assert!(refetches.try_claim(1, start + KEY_REFETCH_INTERVAL));
        assert!(!refetches.try_claim(1, start + KEY_REFETCH_INTERVAL + Duration::from_secs(1)));
    }

    #[test]
    fn the_record_stays_bounded_and_fails_closed_when_full_of_recent_claims() {
        let refetches = KeyRefetches::with_capacity(2);
        let start = Instant::now();
        assert!(refetches.try_claim(1, start));
        assert!(refetches.try_claim(2, start));
        assert!(!refetches.try_claim(3, start), "full of recent claims: refused");
        // Once the old claims expire they make room.
        let later = start + KEY_REFETCH_INTERVAL;
        assert!(refetches.try_claim(3, later));
        assert!(refetches.claimed.lock().unwrap_or_else(|p| p.into_inner()).len() <= 2);
    }
}
