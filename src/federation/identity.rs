//! Who a fetched document really is (FEDERATION.md F2, F8).
//!
//! A document fetched from another server speaks for its `id`. Accepting it under any other
//! name lets a server speak for accounts it does not host: a URL on the attacker's server
//! redirects to (or serves a copy of) someone else's actor, and whatever we learn is credited
//! to the wrong account (Mastodon's CVE-2024-23832). So:
//!
//! - [`fetch_object`]: a document is accepted when its `id` equals the URL asked for and no
//!   redirect was followed. Otherwise it is fetched again **by its id**, which must answer
//!   with the same id and without a redirect to another origin: the id's own server vouches
//!   for it. Anything else is refused. Callers that need one particular id (the actor of an
//!   activity, the author of a note) compare the returned id with the one they need.
//!
//! The WebFinger rule (F8) is in `resolve::by_handle`: an answer for `user@host` names an
//! actor on `host`, or the actor's own server must confirm the handle.

use serde_json::Value;
use url::Url;

use crate::federation::{
    fetch::{FetchBudget, FetchError, SafeClient},
    protocol::lenient::id_of,
    signatures::SigningKey,
};

/// A document accepted under its own id.
#[derive(Debug)]
pub struct Fetched {
    /// The document's id, vouched for by the server it names.
    pub id: Url,
    /// The document.
    pub json: Value,
}

/// The `id` of a fetched document: a string holding an http(s) URL.
fn document_id(json: &Value, host: &str) -> Result<Url, FetchError> {
    match json.get("id") {
        Some(id @ Value::String(_)) => id_of(id),
        _ => None,
    }
    .ok_or_else(|| FetchError::BadResponse { host: host.to_owned(), reason: "the document has no usable id".into() })
}

/// GETs an ActivityPub document (signed by `signer`, on `budget`) and accepts it only under
/// its own id (F2). Costs one fetch, or two when the first answer came through a redirect or
/// names another id.
pub async fn fetch_object(
    client: &SafeClient,
    url: &Url,
    signer: Option<&SigningKey>,
    budget: &mut FetchBudget,
) -> Result<Fetched, FetchError> {
    let (final_url, json) = client.get_activity_json_budgeted(url, signer, budget).await?;
    let id = document_id(&json, final_url.host_str().unwrap_or_default())?;
    if final_url == *url && id == *url {
        return Ok(Fetched { id, json });
    }
    // Redirected, or the document claims another id: only the id's own server can say what
    // lives there.
    let (again_url, again) = client.get_activity_json_budgeted(&id, signer, budget).await?;
    let host = id.host_str().unwrap_or_default().to_owned();
    if again_url.origin() != id.origin() {
        return Err(FetchError::BadResponse { host, reason: format!("{id} redirects to another server") });
    }
    if document_id(&again, &host)? != id {
        return Err(FetchError::BadResponse { host, reason: format!("the document at {id} is not {id}") });
    }
    Ok(Fetched { id, json: again })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_document_id_must_be_a_string_url() {
        assert_eq!(document_id(&json!({"id": "https://a.example/x"}), "a").unwrap(), url("https://a.example/x"));
        for bad in [json!({}), json!({"id": {"id": "https://a.example/x"}}), json!({"id": "ftp://a/x"}), json!([])] {
            assert!(document_id(&bad, "a").is_err(), "{bad}");
        }
    }
}
