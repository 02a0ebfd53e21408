//! The continuation worker: carries on the ancestor walks that ran out of fetch budget
//! (orphans marked with `parent_fetch_after`), each on a fresh budget of its own.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use super::walk_ancestors;
use crate::{
    federation::{activities::HandleError, context::FederationContext, fetch::FetchBudget},
    services::thread_links,
};

/// How often the continuation worker looks for due orphans.
const CONTINUATION_TICK: Duration = Duration::from_millis(500);
/// How long a claimed continuation is held before another worker may take it.
const CONTINUATION_LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Orphans continued per tick.
const CONTINUATION_BATCH: u64 = 10;

/// Continues due chain walks, each on a fresh per-activity budget.
pub async fn continue_due(ctx: &FederationContext) -> Result<usize, HandleError> {
    let now = Utc::now();
    let due =
        thread_links::claim_due_parent_fetches(&ctx.db, now, now + CONTINUATION_LEASE, CONTINUATION_BATCH).await?;
    let count = due.len();
    for post in due {
        let mut budget = FetchBudget::per_activity();
        let id = post.id;
        if let Err(e) = walk_ancestors(ctx, post, &mut budget).await {
            tracing::warn!(post = id, error = %e, "thread continuation failed; the lease expires and it is retried");
        }
    }
    Ok(count)
}

/// The continuation worker: walks the chains that ran out of budget, until shutdown.
pub async fn run_continuations(ctx: FederationContext, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("thread continuation worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = continue_due(&ctx).await {
            tracing::warn!(error = %e, "thread continuation: will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(CONTINUATION_TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("thread continuation worker stopped");
}
