//! Remote follow: a visitor types their own handle on a profile page; we look up their
//! server's remote-interaction template with WebFinger and send them there to confirm the
//! follow in their own app. `GET /authorize_interaction` is the same door, inbound.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::{
    error::{AppError, ErrorKind},
    federation::webfinger::{self, Handle},
    http::pages::{error_page, profile::render_profile, render},
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
    Path(username): Path<String>,
    Form(form): Form<RemoteFollowForm>,
) -> Response {
    let mut page = match render_profile(&state, &username).await {
        Ok(page) => page,
        Err(e) => return error_page(&e),
    };
    let outcome = match Handle::parse(&form.account) {
        Err(problem) => Err((StatusCode::BAD_REQUEST, problem)),
        Ok(handle) => match webfinger::lookup(&state.fetcher, &handle).await {
            Err(e) => {
                tracing::info!(error = %e, "remote follow lookup failed");
                Err((StatusCode::BAD_GATEWAY, format!("We could not look up {}@{}: {e}.", handle.user, handle.host)))
            }
            Ok(jrd) => match jrd.subscribe_template().filter(|t| t.contains("{uri}")) {
                None => Err((
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "{} does not offer remote follows; search for {} in your app instead.",
                        handle.host, page.card.handle
                    ),
                )),
                Some(template) => {
                    let target = utf8_percent_encode(&page.actor_id, NON_ALPHANUMERIC).to_string();
                    let url = template.replace("{uri}", &target);
                    match url::Url::parse(&url) {
                        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Ok((handle, u)),
                        _ => {
                            Err((StatusCode::BAD_GATEWAY, format!("{} sent an unusable follow address.", handle.host)))
                        }
                    }
                }
            },
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
