//! Use cases, independent of HTTP and of ActivityPub. Each public function validates its
//! input, owns its transaction and returns domain results or an [`AppError`].
//!
//! The seam: services never import `federation/`. They record what happened; the
//! federation wing turns that into activities (see `docs/ARCHITECTURE.md`).
//!
//! [`AppError`]: crate::error::AppError

pub mod accounts;
pub mod deliveries;
pub mod follows;
pub mod instance;
pub mod media;
pub mod outbox;
pub mod posts;
pub mod reactions;
pub mod reactions_received;
pub mod remote_actors;
pub mod remote_notes;
pub mod setup;
pub mod staff;
pub mod staff_inbox;
pub mod thread_links;
pub mod threads;
pub mod tokens;

use crate::error::AppError;

/// What became of something another server told us (an edit, a delete, a reaction, a
/// report, a block): the inbound handlers are idempotent, and this says whether this time
/// changed anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Applied.
    Applied,
    /// Nothing to do (unknown, already so, or older than what we have).
    Unchanged,
}

/// Runs CPU-heavy work (key generation, password hashing) off the async executor.
pub(crate) async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, AppError>
where
    T: Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(AppError::internal(e)),
        Err(join) => Err(AppError::internal(join)),
    }
}
