//! Rows the inbox writer stored, handed straight to this process's inbox worker.
//!
//! Without it the worker leases what the writer just stored with an `UPDATE … RETURNING`
//! that re-reads every payload: 16 % of the SQLite write lock in B2 (docs/performance.md).
//! With it the writer inserts the rows already leased (`lease_until`, one attempt) and
//! passes them to the worker in memory; the worker skips the lease statement. The rows are
//! committed before anyone answers 202, as before: if the process dies, their lease runs
//! out and any worker takes them from the table.
//!
//! Order. The worker processes rows in id order, and an activity may depend on an earlier
//! one (`Create` then `Delete`). A row handed over must therefore never overtake an older
//! row still pending in the table. So the handoff is **closed** (rows are inserted unleased,
//! for the table lease) whenever such a row may exist: until the worker's lease has found
//! the table empty once since it attached, after any unleased insert (queue full, no worker,
//! a row given back), and while an unleased insert is in flight. It opens again only when
//! a lease that began after every unleased insert had committed found nothing due.

use std::{collections::VecDeque, sync::Mutex};

use chrono::{DateTime, Utc};

use crate::db::entities::inbox_activities;

/// Rows waiting in memory at most (about a third of a second of B2's load): far fewer than
/// the worker processes in a lease's lifetime, so a handed row is taken long before its
/// lease runs out.
pub const CAPACITY: usize = 1024;

/// How a writer stores one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Insert leased until this time, then [`Handoff::handed`] the new rows.
    Leased(DateTime<Utc>),
    /// Insert unleased (`lease_until` NULL), then [`Handoff::unleased_done`].
    Unleased,
}

/// What the worker read before a table lease (see [`Handoff::caught_up`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    epoch: u64,
    in_flight: usize,
}

#[derive(Debug, Default)]
struct State {
    /// A worker of this process takes handed rows.
    attached: bool,
    /// Rows may be handed over (see the module text).
    open: bool,
    rows: VecDeque<inbox_activities::Model>,
    /// Slots promised to leased inserts still running.
    reserved: usize,
    /// Unleased inserts still running.
    unleased_in_flight: usize,
    /// Unleased inserts finished (and rows given back), ever.
    unleased_epoch: u64,
    /// When the worker last leased from the table.
    table_leased_at: Option<std::time::Instant>,
}

/// The hand-over point between the inbox writer and the worker (one per process).
#[derive(Debug, Default)]
pub struct Handoff {
    state: Mutex<State>,
}

impl Handoff {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A panic while holding this lock leaves only counters behind: keep going.
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut state)
    }

    /// A worker starts taking rows; the handoff stays closed until it finds the table empty.
    pub fn attach(&self) {
        self.with(|s| {
            s.attached = true;
            s.open = false;
        });
    }

    /// The worker stops: nothing more is handed over; returns the rows it had not taken,
    /// to give back to the table.
    pub fn detach(&self) -> Vec<inbox_activities::Model> {
        self.with(|s| {
            s.attached = false;
            s.open = false;
            s.rows.drain(..).collect()
        })
    }

    /// How a writer should store `rows` rows at `now` (leased until `lease_until`).
    pub fn plan(&self, rows: usize, lease_until: DateTime<Utc>) -> Plan {
        self.with(|s| {
            if s.attached && s.open && s.rows.len() + s.reserved + rows <= CAPACITY {
                s.reserved += rows;
                Plan::Leased(lease_until)
            } else {
                // Rows stored unleased now must be processed before any handed later.
                s.open = false;
                s.unleased_in_flight += 1;
                Plan::Unleased
            }
        })
    }

    /// A leased insert of `planned` rows finished; `stored` are the new ones (with ids).
    /// If the worker went away meanwhile, they are returned to be given back.
    pub fn handed(&self, planned: usize, stored: Vec<inbox_activities::Model>) -> Vec<inbox_activities::Model> {
        self.with(|s| {
            s.reserved = s.reserved.saturating_sub(planned);
            if s.attached {
                s.rows.extend(stored);
                Vec::new()
            } else {
                stored
            }
        })
    }

    /// An unleased insert finished (committed or not).
    pub fn unleased_done(&self) {
        self.with(|s| {
            s.unleased_in_flight = s.unleased_in_flight.saturating_sub(1);
            s.unleased_epoch += 1;
        });
    }

    /// Up to `limit` handed rows, oldest first, whose lease lasts past `keep_until`. Rows
    /// whose lease is too short come back separately, to be given back to the table (which
    /// closes the handoff: they are older than what will be handed next).
    pub fn take(
        &self,
        limit: usize,
        keep_until: DateTime<Utc>,
    ) -> (Vec<inbox_activities::Model>, Vec<inbox_activities::Model>) {
        self.with(|s| {
            let mut fresh = Vec::new();
            let mut stale = Vec::new();
            while fresh.len() < limit {
                let Some(row) = s.rows.pop_front() else { break };
                if row.lease_until.is_some_and(|until| until > keep_until) {
                    fresh.push(row);
                } else {
                    stale.push(row);
                }
            }
            if !stale.is_empty() {
                s.open = false;
                s.unleased_epoch += 1;
            }
            (fresh, stale)
        })
    }

    /// Rows were given back to the table (unstarted or stale): close until it is empty.
    pub fn gave_back(&self) {
        self.with(|s| {
            s.open = false;
            s.unleased_epoch += 1;
        });
    }

    /// Read before a table lease; pass to [`Handoff::caught_up`] if it found nothing due.
    pub fn mark(&self) -> Mark {
        self.with(|s| Mark { epoch: s.unleased_epoch, in_flight: s.unleased_in_flight })
    }

    /// A table lease that began at `mark` found nothing due: open, unless an unleased
    /// insert ran or finished since (its rows may not have been visible to that lease).
    pub fn caught_up(&self, mark: Mark) {
        self.with(|s| {
            if s.attached && mark.in_flight == 0 && s.unleased_in_flight == 0 && s.unleased_epoch == mark.epoch {
                s.open = true;
            }
        });
    }

    /// Whether the worker should lease from the table this round even with rows in hand:
    /// when it has not for `every` (retries that came due, rows another process gave up).
    /// Records the lease when it answers yes.
    pub fn table_due(&self, every: std::time::Duration) -> bool {
        self.with(|s| {
            let now = std::time::Instant::now();
            let due = s.rows.is_empty() || s.table_leased_at.is_none_or(|at| now.duration_since(at) >= every);
            if due {
                s.table_leased_at = Some(now);
            }
            due
        })
    }

    /// Rows waiting in memory.
    pub fn waiting(&self) -> usize {
        self.with(|s| s.rows.len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use chrono::Duration;

    use super::*;

    fn row(id: i64, lease_until: Option<DateTime<Utc>>) -> inbox_activities::Model {
        let now = Utc::now();
        inbox_activities::Model {
            id,
            ap_id: format!("https://remote.example/activities/{id}"),
            activity_type: "Create".into(),
            actor_ap_id: "https://remote.example/users/ada".into(),
            payload: "{}".into(),
            state: "pending".into(),
            attempts: 1,
            received_at: now,
            available_at: now,
            lease_until,
            processed_at: None,
            last_error: None,
        }
    }

    fn opened() -> Handoff {
        let handoff = Handoff::default();
        handoff.attach();
        let mark = handoff.mark();
        handoff.caught_up(mark);
        handoff
    }

    #[test]
    fn closed_until_attached_and_caught_up() {
        let until = Utc::now() + Duration::seconds(60);
        let handoff = Handoff::default();
        assert_eq!(handoff.plan(1, until), Plan::Unleased, "no worker: unleased");
        handoff.unleased_done();
        handoff.attach();
        assert_eq!(handoff.plan(1, until), Plan::Unleased, "attached, table not yet found empty");
        handoff.unleased_done();
        let mark = handoff.mark();
        handoff.caught_up(mark);
        assert_eq!(handoff.plan(2, until), Plan::Leased(until));
        assert!(handoff.handed(2, vec![row(1, Some(until)), row(2, Some(until))]).is_empty());
        assert_eq!(handoff.waiting(), 2);
        let (fresh, stale) = handoff.take(64, Utc::now());
        assert_eq!(fresh.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(stale.is_empty());
    }

    #[test]
    fn an_unleased_insert_in_flight_or_finished_during_a_lease_keeps_it_closed() {
        let until = Utc::now() + Duration::seconds(60);
        let handoff = Handoff::default();
        handoff.attach();
        // An unleased insert starts before the lease and is still running after it.
        assert_eq!(handoff.plan(1, until), Plan::Unleased);
        let mark = handoff.mark();
        handoff.caught_up(mark);
        assert_eq!(handoff.plan(1, until), Plan::Unleased, "insert in flight at the mark");
        handoff.unleased_done();
        handoff.unleased_done();
        // One finishes between the mark and the end of the lease: its rows may be unseen.
        let mark = handoff.mark();
        assert_eq!(handoff.plan(1, until), Plan::Unleased);
        handoff.unleased_done();
        handoff.caught_up(mark);
        assert_eq!(handoff.plan(1, until), Plan::Unleased, "an insert finished since the mark");
        handoff.unleased_done();
        let mark = handoff.mark();
        handoff.caught_up(mark);
        assert_eq!(handoff.plan(1, until), Plan::Leased(until));
    }

    #[test]
    fn a_full_queue_closes_it_and_stale_rows_come_back() {
        let now = Utc::now();
        let until = now + Duration::seconds(60);
        let handoff = opened();
        assert_eq!(handoff.plan(CAPACITY, until), Plan::Leased(until));
        assert_eq!(handoff.plan(1, until), Plan::Unleased, "no room: unleased, and closed");
        handoff.unleased_done();
        assert!(handoff.handed(CAPACITY, Vec::new()).is_empty());
        assert_eq!(handoff.plan(1, until), Plan::Unleased, "still closed with room again");
        handoff.unleased_done();

        let handoff = opened();
        assert_eq!(handoff.plan(3, until), Plan::Leased(until));
        handoff.handed(3, vec![row(1, Some(now)), row(2, Some(until)), row(3, Some(until))]);
        let (fresh, stale) = handoff.take(2, now + Duration::seconds(30));
        assert_eq!(fresh.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(stale.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(handoff.plan(1, until), Plan::Unleased, "given back rows close it");
    }

    #[test]
    fn rows_finished_after_the_worker_left_come_back() {
        let until = Utc::now() + Duration::seconds(60);
        let handoff = opened();
        assert_eq!(handoff.plan(2, until), Plan::Leased(until));
        handoff.handed(1, vec![row(1, Some(until))]);
        let left = handoff.detach();
        assert_eq!(left.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1]);
        let back = handoff.handed(1, vec![row(2, Some(until))]);
        assert_eq!(back.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2]);
        assert_eq!(handoff.plan(1, until), Plan::Unleased);
    }
}
