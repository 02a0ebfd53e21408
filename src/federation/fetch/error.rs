//! Why a fetch was refused or failed ([`FetchError`]).

use reqwest::StatusCode;

/// Why a fetch was refused or failed. The messages are safe to show to the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not one we may fetch (scheme, special address, malformed).
    #[error("refused to fetch {0}")]
    Refused(String),
    /// A network problem or timeout.
    #[error("could not reach {host}: {reason}")]
    Unreachable {
        /// The host we tried.
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// The remote answered with a status we do not accept.
    #[error("{host} answered {status}")]
    Status {
        /// The host that answered.
        host: String,
        /// Its status code.
        status: StatusCode,
    },
    /// The per-activity fetch budget or the collection-page limit is spent (F5).
    #[error("fetch budget spent before {0}")]
    BudgetSpent(String),
    /// The response broke a rule: size, type, too many redirects, bad JSON.
    #[error("unusable response from {host}: {reason}")]
    BadResponse {
        /// The host that answered.
        host: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// An error and its sources, joined with ": " (reqwest's own message hides the cause).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
