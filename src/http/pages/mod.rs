//! Server-rendered pages (templates in `frontend/templates`, compiled in by askama) and
//! the static files of `frontend/static`, embedded in the binary. No JavaScript needed.

pub mod cache;
pub mod home;
pub mod post;
pub mod profile;
pub mod remote_follow;
pub mod setup;
mod static_files;
pub mod tag;

use askama::Template;
use axum::{
    Router,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};

use crate::{error::AppError, state::AppState};

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/{handle}", get(profile::short_profile))
        .route("/setup", get(setup::form).post(setup::submit))
        .route("/users/{username}/remote-follow", post(remote_follow::submit))
        .route("/authorize_interaction", get(remote_follow::authorize_interaction))
        .route("/static/{file}", get(static_files::serve))
        .route("/tags/{tag}", get(tag::tag))
}

/// Renders a template with a status, or a plain 500 when rendering itself fails.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Shown as the page heading.
    pub title: String,
    /// What happened and what to do.
    pub message: String,
}

/// An [`AppError`] shown as a page.
pub fn error_page(err: &AppError) -> Response {
    err.log();
    let title = match err.status() {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::GONE => "Deleted",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    render(err.status(), &ErrorPage { title: title.into(), message: err.message.clone() })
}

/// The fallback for unknown paths.
pub async fn not_found() -> Response {
    error_page(&AppError::not_found("There is nothing at this address."))
}
