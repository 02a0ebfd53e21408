//! What a signature must cover (I3) and how long it stays valid (I5).
//!
//! A signature that does not bind the method, target, host and body can be replayed against
//! another inbox or with another body; one that does not bind a time can be replayed
//! forever. The rules follow Mastodon so that every peer Mastodon accepts, we accept:
//!
//! - a POST (and any method other than GET/HEAD) must cover the request target
//!   (`(request-target)`, or `@method` with `@target-uri` or `@path`/`@request-target`), the
//!   host (`host`, `@authority` or `@target-uri`), a time (`date` or `(created)`/`created`)
//!   and the body (`digest` or `content-digest`);
//! - a GET or HEAD must cover the host and a time (Mastodon requires the time for every
//!   request, so every signer already sends it);
//! - the time window: refuse a signature made more than [`CLOCK_SKEW`] in the future, and
//!   one checked after `min(expires, created + MAX_LIFETIME) + CLOCK_SKEW`, where `expires`
//!   defaults to `created + DEFAULT_LIFETIME`. A Date-only signature thus lives 65 minutes.

use std::time::{Duration, SystemTime};

use http::Method;

use super::{Scheme, SignatureError};

/// Allowed clock difference with the sender, both ways.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60 * 60);
/// How long a signature without `expires` is valid, before [`CLOCK_SKEW`].
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// The longest a signature is valid whatever its `expires` says, before [`CLOCK_SKEW`].
pub const MAX_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// What a signature covers, in scheme-neutral terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Coverage {
    /// The method: cavage `(request-target)`, RFC 9421 `@method`.
    pub method: bool,
    /// The path and query: `(request-target)`, `@target-uri`, `@path`, `@request-target`.
    pub path: bool,
    /// The host: `host`, `@authority`, `@target-uri`.
    pub authority: bool,
    /// A time: `date`, cavage `(created)`, RFC 9421 `created`.
    pub time: bool,
    /// `Digest` is covered.
    pub digest: bool,
    /// `Content-Digest` is covered.
    pub content_digest: bool,
}

/// Checks that the signature covers what the method demands (I3).
pub(super) fn check_coverage(scheme: Scheme, method: &Method, c: &Coverage) -> Result<(), SignatureError> {
    let cavage = scheme == Scheme::Cavage;
    if !c.authority {
        return Err(SignatureError::NotCovered(if cavage { "host" } else { "@authority or @target-uri" }));
    }
    if !c.time {
        return Err(SignatureError::NotCovered(if cavage { "date or (created)" } else { "date or created" }));
    }
    if *method == Method::GET || *method == Method::HEAD {
        return Ok(());
    }
    if !(c.method && c.path) {
        return Err(SignatureError::NotCovered(if cavage {
            "(request-target)"
        } else {
            "@method and @target-uri (or @path)"
        }));
    }
    if !(c.digest || c.content_digest) {
        return Err(SignatureError::NotCovered(if cavage { "digest" } else { "content-digest" }));
    }
    Ok(())
}

/// Checks the time window (I5) and returns the creation time.
pub(super) fn check_time(
    created: Option<SystemTime>,
    expires: Option<SystemTime>,
    now: SystemTime,
) -> Result<SystemTime, SignatureError> {
    // Coverage already demands a time; this is the same refusal if it is somehow absent.
    let created = created.ok_or(SignatureError::NotCovered("a date"))?;
    let latest_start = now.checked_add(CLOCK_SKEW).unwrap_or(now);
    if created > latest_start {
        return Err(SignatureError::FromTheFuture);
    }
    // `created` is in the past or near future, so these additions cannot overflow; if they
    // somehow did, the signature would be treated as never expiring by `expires` alone.
    let cap = created.checked_add(MAX_LIFETIME).unwrap_or(created);
    let expires = expires.or_else(|| created.checked_add(DEFAULT_LIFETIME)).unwrap_or(created).min(cap);
    let deadline = expires.checked_add(CLOCK_SKEW).unwrap_or(expires);
    if now > deadline {
        return Err(SignatureError::Expired);
    }
    Ok(created)
}

/// A Unix timestamp from a signature parameter, `None` if out of range.
pub(super) fn unix_time(secs: i64) -> Option<SystemTime> {
    let secs = u64::try_from(secs).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    const T: u64 = 1_700_000_000;
    const MIN: u64 = 60;

    #[test]
    fn a_date_only_signature_lives_65_minutes() {
        assert_eq!(check_time(Some(at(T)), None, at(T + 65 * MIN)), Ok(at(T)));
        assert_eq!(check_time(Some(at(T)), None, at(T + 65 * MIN + 1)), Err(SignatureError::Expired));
    }

    #[test]
    fn expires_is_honoured_and_capped_at_twelve_hours() {
        let expires = Some(at(T + 30 * MIN));
        assert!(check_time(Some(at(T)), expires, at(T + 90 * MIN)).is_ok());
        assert_eq!(check_time(Some(at(T)), expires, at(T + 90 * MIN + 1)), Err(SignatureError::Expired));
        let far = Some(at(T + 48 * 60 * MIN));
        assert!(check_time(Some(at(T)), far, at(T + 13 * 60 * MIN)).is_ok());
        assert_eq!(check_time(Some(at(T)), far, at(T + 13 * 60 * MIN + 1)), Err(SignatureError::Expired));
    }

    #[test]
    fn an_hour_of_future_skew_is_tolerated_and_no_more() {
        assert!(check_time(Some(at(T + 60 * MIN)), None, at(T)).is_ok());
        assert_eq!(check_time(Some(at(T + 60 * MIN + 1)), None, at(T)), Err(SignatureError::FromTheFuture));
    }

    #[test]
    fn a_get_needs_host_and_time_and_a_post_needs_everything() {
        let host_time = Coverage { authority: true, time: true, ..Coverage::default() };
        assert!(check_coverage(Scheme::Cavage, &Method::GET, &host_time).is_ok());
        assert_eq!(
            check_coverage(Scheme::Cavage, &Method::POST, &host_time),
            Err(SignatureError::NotCovered("(request-target)"))
        );
        let no_digest = Coverage { method: true, path: true, ..host_time };
        assert_eq!(
            check_coverage(Scheme::Cavage, &Method::POST, &no_digest),
            Err(SignatureError::NotCovered("digest"))
        );
        let full = Coverage { content_digest: true, ..no_digest };
        assert!(check_coverage(Scheme::Rfc9421, &Method::POST, &full).is_ok());
        let no_host = Coverage { authority: false, ..full };
        assert_eq!(check_coverage(Scheme::Cavage, &Method::GET, &no_host), Err(SignatureError::NotCovered("host")));
    }

    #[test]
    fn negative_or_huge_timestamps_are_refused() {
        assert_eq!(unix_time(-1), None);
        assert_eq!(unix_time(T as i64), Some(at(T)));
    }
}
