//! Building and running the application: `Application::build(config)` connects, migrates,
//! binds (port 0 in tests) and returns the real address; `run_until_stopped` serves until
//! the shutdown future resolves, then drains in-flight requests.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    config::Config,
    db,
    federation::{delivery::worker::DeliveryLimits, fetch::SafeClient, retention::Retention},
    http,
    services::instance,
    state::AppState,
    workers::Workers,
};

/// A built, bound, not yet running instance.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    run_workers: bool,
}

impl Application {
    /// Connects to the database, runs migrations, checks the public URL, makes sure the
    /// instance actor exists, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(config.bind).await.with_context(|| format!("cannot listen on {} (bind)", config.bind))?;
        Self::build_on(config, listener).await
    }

    /// Like [`Application::build`], on a listener the caller already bound: tests bind port
    /// 0 first so that the public URL can name the real port.
    pub async fn build_on(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let state = prepare_state(config).await?;
        Ok(Self { listener, state, run_workers: true })
    }

    /// The address actually bound (the real port when `bind` asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state, for tests and for the CLI's first-run message.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve the web only (`serve --no-workers`): another process runs the workers.
    pub fn without_workers(mut self) -> Self {
        self.run_workers = false;
        self
    }

    /// Serves (and runs the workers) until `shutdown` resolves, then stops accepting,
    /// finishes open requests and in-flight work.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let limits = DeliveryLimits::from_config(&self.state.config);
        let workers = if self.run_workers {
            Workers::start(&self.state.federation, limits, Retention::from_config(&self.state.config))
        } else {
            Workers::database_only(&self.state.federation)
        };
        let router = http::router(self.state);
        let served = axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
        workers.shutdown().await;
        served
    }
}

/// Everything `build` does short of binding: also what CLI commands need.
pub async fn prepare_state(config: Config) -> anyhow::Result<AppState> {
    let db = db::connect(&config)
        .await
        .with_context(|| format!("cannot open the database at {} (database_url)", config.database_url))?;
    db::migrate(&db).await.context("database migration failed")?;
    let user_agent = format!("Openhouse/{} (+{})", env!("CARGO_PKG_VERSION"), config.public_url);
    let fetcher =
        SafeClient::new(config.allow_private_fetch.clone(), &user_agent).context("cannot build the HTTP client")?;
    let urls = crate::urls::Urls::new(config.public_url.clone());
    instance::pin_public_url(&db, &urls).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = AppState::new(db, config, fetcher).await?;
    Ok(state)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing open requests");
}
