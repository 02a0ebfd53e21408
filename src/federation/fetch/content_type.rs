//! Which responses count as ActivityPub documents (FEDERATION.md F2), and what we ask for.

/// What we ask for when fetching ActivityPub documents.
pub(super) const ACTIVITY_ACCEPT: &str =
    "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// F2: `application/activity+json`, or `application/ld+json` with the ActivityStreams
/// profile. (`content_type` is lower-cased.)
pub fn is_activity_content_type(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    media == "application/activity+json"
        || (media == "application/ld+json" && content_type.contains("https://www.w3.org/ns/activitystreams"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_activitypub_content_types_are_objects() {
        assert!(is_activity_content_type("application/activity+json"));
        assert!(is_activity_content_type("application/activity+json; charset=utf-8"));
        assert!(is_activity_content_type("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""));
        assert!(!is_activity_content_type("application/ld+json"));
        assert!(!is_activity_content_type("application/json"));
        assert!(!is_activity_content_type("text/html"));
    }
}
