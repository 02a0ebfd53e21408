//! When to try again, and what a response means (D5, D6).

use chrono::Duration;

/// Attempts before a delivery is given up (about 16, over 2–3 days).
pub const MAX_ATTEMPTS: i32 = 16;

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: done.
    Delivered,
    /// 4xx other than 401/408/429: the inbox will never take it.
    Permanent,
    /// 401/408/429/5xx or a network error: try again later.
    Retry,
}

/// D6: classify an HTTP status (`None` = no response at all).
pub fn classify(status: Option<u16>) -> Verdict {
    match status {
        Some(s) if (200..300).contains(&s) => Verdict::Delivered,
        Some(401 | 408 | 429) | None => Verdict::Retry,
        // An inbox that redirects a POST will keep doing so.
        Some(s) if (300..400).contains(&s) => Verdict::Permanent,
        Some(s) if (400..500).contains(&s) => Verdict::Permanent,
        Some(_) => Verdict::Retry,
    }
}

/// D5: the delay before attempt `attempt + 1` (attempt counts from 1). Polynomial growth,
/// like Mastodon's: 16 attempts span about two and a half days. `jitter` in [0, 1) spreads
/// retries of one host so they do not arrive together.
pub fn backoff(attempt: i32, jitter: f64) -> Duration {
    let n = i64::from(attempt.clamp(1, MAX_ATTEMPTS));
    let base = n.pow(4) + 15;
    let spread = (jitter.clamp(0.0, 1.0) * 30.0 * (n + 1) as f64) as i64;
    Duration::seconds(base + spread)
}

/// The wait a `Retry-After` header asks for (seconds, or an HTTP date), capped at a day.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let seconds = match value.parse::<u64>() {
        Ok(s) => s,
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).ok()?.as_secs(),
    };
    Some(Duration::seconds(seconds.min(86_400) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_as_mastodon_does() {
        assert_eq!(classify(Some(200)), Verdict::Delivered);
        assert_eq!(classify(Some(202)), Verdict::Delivered);
        for s in [301, 302, 400, 403, 404, 410, 422] {
            assert_eq!(classify(Some(s)), Verdict::Permanent, "{s}");
        }
        for s in [401, 408, 429, 500, 502, 503] {
            assert_eq!(classify(Some(s)), Verdict::Retry, "{s}");
        }
        assert_eq!(classify(None), Verdict::Retry);
    }

    #[test]
    fn sixteen_attempts_span_two_to_three_days() {
        let total: i64 = (1..MAX_ATTEMPTS).map(|a| backoff(a, 0.5).num_seconds()).sum();
        let days = total as f64 / 86_400.0;
        assert!((1.5..3.5).contains(&days), "{days} days");
        assert!(backoff(2, 0.0) < backoff(3, 0.0));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        assert_eq!(retry_after("120", now), Some(Duration::seconds(120)));
        let later = httpdate::fmt_http_date(now + std::time::Duration::from_secs(60));
        assert_eq!(retry_after(&later, now), Some(Duration::seconds(60)));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("999999999", now), Some(Duration::seconds(86_400)));
    }
}
