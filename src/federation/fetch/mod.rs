//! The one HTTP client for everything Openhouse fetches from other servers.
//!
//! It enforces `FEDERATION.md` §5: special-use addresses (`net::is_special_address`) are
//! refused **when the connection is made**, through our own DNS resolver, so a name that
//! resolves differently the second time cannot slip through; redirects are followed by hand
//! so that every hop is checked again; responses are capped in size and time. Only entries
//! of the operator's `net::AllowList` (`OPENHOUSE_ALLOW_PRIVATE_FETCH`) may be reached on
//! special addresses or over plain `http://`; the check is never switched off as a whole.
//!
//! - `client.rs`: [`SafeClient`], its limits and connection pool;
//! - `resolver.rs`: the checking DNS resolver it connects through;
//! - `error.rs`: [`FetchError`];
//! - `budget.rs`: what one unit of work may fetch ([`FetchBudget`], [`PageLimit`], F5);
//! - `content_type.rs`: which responses are ActivityPub documents (F2).

mod budget;
mod client;
mod content_type;
mod error;
mod resolver;

pub use budget::{FETCHES_PER_ACTIVITY, FetchBudget, MAX_COLLECTION_PAGES, PageLimit};
pub use client::{
    CONNECT_TIMEOUT, MAX_RESPONSE_BYTES, OBJECT_MAX_REDIRECTS, POOL_IDLE_TIMEOUT, POOL_MAX_IDLE_PER_HOST,
    REQUEST_TIMEOUT, SafeClient, WEBFINGER_MAX_REDIRECTS,
};
pub use content_type::is_activity_content_type;
pub use error::FetchError;
