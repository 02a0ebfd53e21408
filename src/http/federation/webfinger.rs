//! `GET /.well-known/webfinger?resource=…` (RFC 7033), as Mastodon expects it: `acct:` or
//! actor-URL resources, aliases, the `self` link to the actor, the profile page, and the
//! remote-interaction template.

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    db::entities::actors,
    error::{AppError, AppResult},
    federation::{
        ACTIVITY_JSON,
        protocol::webfinger::{JRD_CONTENT_TYPE, Jrd, JrdLink, REL_PROFILE_PAGE, REL_SELF, REL_SUBSCRIBE},
    },
    http::extract::json_with_type,
    services::accounts,
    state::AppState,
    urls::Urls,
};

#[derive(Debug, Deserialize)]
pub(super) struct WebfingerQuery {
    resource: Option<String>,
}

/// What a `resource` names, once parsed.
#[derive(Debug, PartialEq, Eq)]
enum Resource {
    /// `acct:name@domain` on our domain.
    Account(String),
    /// A URL on our origin.
    Url(String),
    /// Something well-formed that is not ours.
    Elsewhere,
}

fn parse_resource(raw: &str, urls: &Urls) -> Result<Resource, AppError> {
    let raw = raw.trim();
    if raw.starts_with("https://") || raw.starts_with("http://") {
        let url = url::Url::parse(raw).map_err(|_| AppError::bad_request("resource is not a valid URL"))?;
        let ours = url.origin() == urls.base().url().origin();
        return Ok(if ours { Resource::Url(url.to_string()) } else { Resource::Elsewhere });
    }
    let acct = raw.strip_prefix("acct:").unwrap_or(raw);
    let acct = acct.strip_prefix('@').unwrap_or(acct);
    let (name, domain) = acct
        .rsplit_once('@')
        .filter(|(n, d)| !n.is_empty() && !d.is_empty() && !n.contains('@'))
        .ok_or_else(|| AppError::bad_request("resource must be acct:name@domain or an actor URL"))?;
    if domain.eq_ignore_ascii_case(&urls.handle_domain()) {
        Ok(Resource::Account(name.to_owned()))
    } else {
        Ok(Resource::Elsewhere)
    }
}

pub(super) async fn webfinger(
    State(state): State<AppState>,
    query: Result<Query<WebfingerQuery>, QueryRejection>,
) -> AppResult<Response> {
    let resource = query
        .map_err(|_| AppError::bad_request("malformed query string"))?
        .0
        .resource
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| AppError::bad_request("the resource parameter is required"))?;
    let actor = match parse_resource(&resource, &state.urls)? {
        Resource::Account(name) => accounts::find_discoverable(&state.db, &name).await?,
        Resource::Url(url) => find_by_url(&state, &url).await?,
        Resource::Elsewhere => None,
    };
    let actor = actor.ok_or_else(|| AppError::not_found("no such account on this server"))?;
    Ok(json_with_type(&jrd_for(&actor, &state.urls), JRD_CONTENT_TYPE, false).into_response())
}

/// The actor id, or the short profile URL (`/@name`) that people paste.
async fn find_by_url(state: &AppState, url: &str) -> AppResult<Option<actors::Model>> {
    if let Some(actor) = accounts::find_by_id_url(&state.db, url).await? {
        return Ok(Some(actor));
    }
    let profile_prefix = format!("{}/@", state.urls.origin());
    match url.strip_prefix(&profile_prefix) {
        Some(name) if !name.contains('/') => accounts::find(&state.db, name).await,
        _ => Ok(None),
    }
}

fn jrd_for(actor: &actors::Model, urls: &Urls) -> Jrd {
    let profile = actor.profile_url.clone().unwrap_or_else(|| actor.ap_id.clone());
    let mut aliases = vec![actor.ap_id.clone()];
    if profile != actor.ap_id {
        aliases.push(profile.clone());
    }
    Jrd {
        subject: format!("acct:{}@{}", actor.username, urls.handle_domain()),
        aliases,
        links: vec![
            JrdLink {
                rel: REL_PROFILE_PAGE.into(),
                kind: Some("text/html".into()),
                href: Some(profile),
                template: None,
            },
            JrdLink {
                rel: REL_SELF.into(),
                kind: Some(ACTIVITY_JSON.into()),
                href: Some(actor.ap_id.clone()),
                template: None,
            },
            JrdLink {
                rel: REL_SUBSCRIBE.into(),
                kind: None,
                href: None,
                template: Some(urls.authorize_interaction_template()),
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::PublicUrl;

    fn urls() -> Urls {
        Urls::new(PublicUrl::parse("https://community.acme.com").unwrap())
    }

    #[test]
    fn resources_parse_like_mastodon_sends_them() {
        let u = urls();
        assert_eq!(parse_resource("acct:acme@community.acme.com", &u).unwrap(), Resource::Account("acme".into()));
        assert_eq!(parse_resource("acct:Acme@COMMUNITY.acme.com", &u).unwrap(), Resource::Account("Acme".into()));
        assert_eq!(parse_resource("@acme@community.acme.com", &u).unwrap(), Resource::Account("acme".into()));
        assert_eq!(parse_resource("acct:acme@elsewhere.social", &u).unwrap(), Resource::Elsewhere);
        assert_eq!(
            parse_resource("https://community.acme.com/users/acme", &u).unwrap(),
            Resource::Url("https://community.acme.com/users/acme".into())
        );
        assert_eq!(parse_resource("https://elsewhere.social/users/acme", &u).unwrap(), Resource::Elsewhere);
        for bad in ["acme", "acct:", "acct:@x", "acct:acme@", "https://", "acct:a@b@c"] {
            assert!(parse_resource(bad, &u).is_err(), "{bad}");
        }
    }
}
