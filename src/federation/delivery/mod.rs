//! Durable delivery (FEDERATION.md §6).
//!
//! ```text
//!  service txn ──► outbox_events (D1: same transaction as the change)
//!                      │  expand.rs: event → activity JSON + audience → one delivery per
//!                      ▼  distinct (shared) inbox; idempotent (D2)
//!                  activities ──► deliveries (pending, next_attempt_at)
//!                                     │  worker.rs: lease (D3) ─► sign ─► POST
//!                                     ▼  2xx done │ 4xx permanent │ 401/408/429/5xx/network retry (D5, D6)
//!                                 hosts (breaker, dead-host detection, daily probe: D7)
//! ```
//!
//! A process killed mid-delivery loses nothing: the rows stay `pending` with a lease that
//! expires, and whoever runs next (the restarted process or another worker) resends them.

pub mod expand;
pub mod hosts;
pub mod retry;
pub mod worker;
