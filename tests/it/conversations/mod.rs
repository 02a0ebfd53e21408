//! Conversations over HTTP: signed activities from test-controlled remote servers (two
//! loopback hosts serving actors and notes) reach A's inbox, and A stores, threads, edits,
//! deletes, counts, reports, blocks and follows moves; missing parents are fetched upward
//! within the fetch budget, and cyclic or over-deep chains end cleanly.
//!
//! - `storing`: replies stored, threaded, edited and deleted, from a fake server and from
//!   another Openhouse instance.
//! - `batches`: one inbox round stores its notes together, in order, and a note at fault
//!   fails alone.
//! - `parents`: missing parents fetched within the budget, orphans linked, cycles and
//!   over-deep chains ended.
//! - `staff_inbox`: replies linked late still reach the staff inbox (the conversations).
//! - `reactions`: likes and announces counted once per actor, and undone.
//! - `moderation`: deleted actors, reports, blocks and moves.
//! - `remote_actors`: the cache of remote actors, refreshed after a day, forgotten when gone.

mod batches;
mod moderation;
mod parents;
mod reactions;
mod remote_actors;
mod staff_inbox;
mod storing;

use openhouse::db::entities::posts;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::support::TestApp;

async fn post_count(a: &TestApp) -> u64 {
    posts::Entity::find().count(&a.state.db).await.unwrap()
}
