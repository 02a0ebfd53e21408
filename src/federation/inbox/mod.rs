//! The inbox: receiving activities (FEDERATION.md §4) and the worker that processes them.
//!
//! ```text
//! POST /inbox ─► body ≤ 1 MiB (413) ─► signature parses, covers enough, digest, time (401/400)
//!             ─► envelope {id, type, actor} sane, same origin, not ours (400)
//!             ─► (a self-Delete of an actor we never saw: 202, dropped unstored)
//!             ─► the actor whose id IS `actor` resolved (cache / signed fetch, F2) and
//!                owns the key (401)
//!             ─► signature verified; on failure the key is re-fetched once per 5 min (401)
//!             ─► per-actor rate limit, charged to the verified actor (429)
//!             ─► INSERT inbox_activities with the verified actor's row (dedup by id;
//!                group commit) ─► 202
//!
//! inbox worker ─► lease a batch of pending rows (one UPDATE … RETURNING id), then read them
//!              ─► dispatch each by type (activities/*) ─► done / ignored / retry, per group,
//!                 written with the next round's lease (one transaction)
//! ```
//!
//! - `receive.rs`: the checks, the verified actor, the durable insert ([`receive`]);
//! - `writer.rs`: the group commit of those inserts ([`writer::InboxWriter`]; ADR 0009);
//! - `worker.rs`: leasing rounds, dispatching them, writing their outcomes ([`run_worker`]).
//!
//! The statements themselves are in `db::queries::inbox`.

mod receive;
mod worker;
pub mod writer;

pub use receive::{
    Envelope, InboundRequest, InboxError, Receipt, envelope, parse_signature, receive, retry_after_seconds,
};
pub use worker::{MAX_ATTEMPTS, lease, process_batch, run_worker};
