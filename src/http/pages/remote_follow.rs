//! Remote follow: a visitor types their own handle on a profile page; we look up their
//! server's remote-interaction template with WebFinger and send them there to confirm the
//! follow in their own app. `GET /authorize_interaction` is the same door, inbound.
//!
//! The form makes this server fetch a URL a stranger chose, so it is kept from being a
//! scanner's proxy: lookups are limited per client address (`remote_follow_per_minute`),
//! and every failure shows the visitor the same plain sentence (no host, port or error;
//! those go to the log), so the answers tell nothing about what is reachable from here.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::{
    error::{AppError, ErrorKind},
    federation::{
        inbox::retry_after_seconds,
        webfinger::{self, Handle},
    },
    http::pages::{ErrorPage, error_page, profile::render_profile, render},
    rate_limit,
    services::instance,
    state::AppState,
};

#[derive(Debug, Deserialize)]
pub(super) struct RemoteFollowForm {
    #[serde(default)]
    account: String,
}

#[derive(Template)]
#[template(path = "remote_follow.html")]
struct ContinuePage {
    instance_name: String,
    display_name: String,
    handle: String,
    server: String,
    continue_url: String,
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(username): Path<String>,
    Form(form): Form<RemoteFollowForm>,
) -> Response {
    // Before any work: every submission may cost an outbound lookup.
    let ip = rate_limit::client_ip(peer, &headers, &state.config.trusted_proxies);
    if let Err(wait) = state.remote_follow_limit.check(ip) {
        tracing::info!(%ip, "remote follow: rate limited");
        return too_many_lookups(retry_after_seconds(wait));
    }
    let mut page = match render_profile(&state, &username).await {
        Ok(page) => page,
        Err(e) => return error_page(&e),
    };
    let outcome = match Handle::parse(&form.account) {
        Err(problem) => Err((StatusCode::BAD_REQUEST, problem)),
        Ok(handle) => match follow_address(&state, &handle, &page.actor_id).await {
            Ok(url) => Ok((handle, url)),
            Err(reason) => {
                let account = format!("{}@{}", handle.user, handle.host);
                tracing::info!(%ip, %account, %reason, "remote follow: lookup failed");
                let message = format!(
                    "We could not find that account. Check the address, or search for {} in your app instead.",
                    page.card.handle
                );
                Err((StatusCode::BAD_GATEWAY, message))
            }
        },
    };
    match outcome {
        Ok((handle, url)) => render(
            StatusCode::OK,
            &ContinuePage {
                instance_name: page.instance_name,
                display_name: page.card.display_name,
                handle: page.card.handle,
                server: handle.host,
                continue_url: url.to_string(),
            },
        ),
        Err((status, message)) => {
            page.error = Some(message);
            page.account_input = form.account.chars().take(300).collect();
            render(status, &page)
        }
    }
}

/// The visitor's server's address for following `actor_id`, from its WebFinger
/// remote-follow template. The error is for the log only.
async fn follow_address(state: &AppState, handle: &Handle, actor_id: &str) -> Result<url::Url, String> {
    let jrd = webfinger::lookup(&state.fetcher, handle).await.map_err(|e| format!("{e:#}"))?;
    let template = jrd
        .subscribe_template()
        .filter(|t| t.contains("{uri}"))
        .ok_or_else(|| "no remote-follow template (subscribe link with {uri})".to_owned())?;
    let url = template.replace("{uri}", &utf8_percent_encode(actor_id, NON_ALPHANUMERIC).to_string());
    match url::Url::parse(&url) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Ok(u),
        _ => Err(format!("unusable follow address {:?}", url.chars().take(200).collect::<String>())),
    }
}

/// 429 with `Retry-After`: this address has looked up too many accounts lately.
fn too_many_lookups(retry_after: u64) -> Response {
    let page = ErrorPage {
        title: "Too many lookups".into(),
        message: format!(
            "Too many remote-follow lookups from your address. Please try again in {retry_after} seconds."
        ),
    };
    let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

#[derive(Debug, Deserialize)]
pub(super) struct InteractionQuery {
    uri: Option<String>,
}

#[derive(Template)]
#[template(path = "authorize_interaction.html")]
struct InteractionPage {
    instance_name: String,
    uri: String,
}

pub(super) async fn authorize_interaction(
    State(state): State<AppState>,
    Query(query): Query<InteractionQuery>,
) -> Response {
    let Some(uri) = query.uri.filter(|u| !u.trim().is_empty()) else {
        return error_page(&AppError::new(
            ErrorKind::BadRequest,
            "This link needs a uri parameter naming what to follow.",
        ));
    };
    let instance_name = match instance::name(&state.db).await {
        Ok(name) => name,
        Err(e) => return error_page(&e),
    };
    render(StatusCode::OK, &InteractionPage { instance_name, uri: uri.chars().take(2048).collect() })
}
