//! The supervisor of background work: the inbox worker, the outbox expander and the
//! delivery worker. `serve` runs them beside the web server (unless `--no-workers`);
//! `openhouse worker` runs only them. All stop together on shutdown, finishing what is in
//! flight; anything interrupted is picked up again from the database.

use tokio::{sync::watch, task::JoinSet};

use crate::federation::{
    context::FederationContext,
    delivery::{self, worker::DeliveryLimits},
    inbox,
};

/// Running workers.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Workers {
    /// Starts every worker.
    pub fn start(ctx: &FederationContext, limits: DeliveryLimits) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(inbox::run_worker(ctx.clone(), stopped.clone()));
        tasks.spawn(delivery::expand::run(ctx.clone(), stopped.clone()));
        let delivery_ctx = ctx.clone();
        tasks.spawn(async move {
            if let Err(e) = delivery::worker::run(delivery_ctx, limits, stopped).await {
                tracing::error!(error = %e, "delivery worker could not start");
            }
        });
        Self { stop, tasks }
    }

    /// Asks every worker to stop and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}
