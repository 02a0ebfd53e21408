//! The supervisor of background work: the inbox worker, the outbox expander, the
//! delivery worker, the post scheduler, the thread continuation worker, the retention task,
//! the refresh of host health, and on SQLite the WAL checkpointer. `serve` runs them beside
//! the web server (with `--no-workers`, only the checkpointer and the host-health refresh);
//! `openhouse worker` runs only them. All stop together on shutdown,
//! finishing what is in flight; anything interrupted is picked up again from the database.

use std::time::Duration;

use tokio::{sync::watch, task::JoinSet};

use crate::{
    federation::{
        context::FederationContext,
        delivery::{self, hosts, worker::DeliveryLimits},
        inbox, remote_notes,
        retention::{self, Retention},
    },
    services::posts,
};

/// How often the scheduler looks for posts whose time has come.
const SCHEDULER_TICK: Duration = Duration::from_millis(500);

/// Running workers.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Workers {
    /// Starts every worker.
    pub fn start(ctx: &FederationContext, limits: DeliveryLimits, retention: Retention) -> Self {
        let mut workers = Self::database_only(ctx);
        let stopped = workers.stop.subscribe();
        let tasks = &mut workers.tasks;
        tasks.spawn(inbox::run_worker(ctx.clone(), stopped.clone()));
        tasks.spawn(delivery::expand::run(ctx.clone(), stopped.clone()));
        tasks.spawn(run_scheduler(ctx.clone(), stopped.clone()));
        tasks.spawn(remote_notes::run_continuations(ctx.clone(), stopped.clone()));
        tasks.spawn(retention::run(ctx.db.clone(), retention, stopped.clone()));
        let delivery_ctx = ctx.clone();
        tasks.spawn(async move {
            if let Err(e) = delivery::worker::run(delivery_ctx, limits, stopped).await {
                tracing::error!(error = %e, "delivery worker could not start");
            }
        });
        workers
    }

    /// Starts what runs whatever else runs (`serve --no-workers`): the WAL checkpointer on
    /// SQLite, and the refresh of this process's copy of host health, which its inbox
    /// consults to revive failing hosts (D7).
    pub fn database_only(ctx: &FederationContext) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(hosts::keep_fresh(ctx.clone(), stopped.clone()));
        tasks.spawn(crate::db::checkpoint::run(ctx.db.clone(), stopped));
        Self { stop, tasks }
    }

    /// Asks every worker to stop and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Releases scheduled posts when due. Safe with several processes: each post is claimed by
/// a conditional UPDATE, and only the winner records `PostPublished`.
async fn run_scheduler(ctx: FederationContext, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("post scheduler started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        match posts::release_due(&ctx.db).await {
            Ok(0) => {}
            Ok(_) => ctx.outbox_wakeup.notify_one(),
            Err(e) => tracing::warn!(error = %e, "post scheduler: will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SCHEDULER_TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("post scheduler stopped");
}
