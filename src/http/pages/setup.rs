//! `/setup`: the first-run page that creates the owner and the first brand account.
//!
//! `openhouse serve` prints `/setup?token=…` while no owner exists. Opening it exchanges the
//! token, once, for a setup session kept in a cookie (`HttpOnly`, `SameSite=Lax`,
//! `Path=/setup`, `Secure` behind https, 30 minutes) and redirects to `/setup` without the
//! token: the URL that access logs, proxies and the browser history keep is spent. The form
//! and its submission then work from the cookie alone.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use crate::{
    error::{AppError, ErrorKind},
    http::pages::{error_page, profile::AccountCard, render},
    secrets::Secret,
    services::setup::{self, SESSION_LIFETIME, SetupInput},
    state::AppState,
};

/// The cookie holding the setup session's secret.
pub const SESSION_COOKIE: &str = "openhouse_setup";

#[derive(Debug, Deserialize)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    handle_domain: String,
    instance_name: String,
    owner_email: String,
    brand_username: String,
    brand_display_name: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup_done.html")]
struct SetupDonePage {
    instance_name: String,
    owner_email: String,
    brand: AccountCard,
}

fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    let max_age = cookie::time::Duration::seconds(SESSION_LIFETIME.num_seconds());
    Cookie::build((SESSION_COOKIE, value))
        .http_only(true)
        // Lax, not Strict: the link is often opened from another site (a chat's web app),
        // and a Strict cookie set during that navigation is not sent on its redirect, which
        // would spend the token for nothing. The form posts to its own site either way.
        .same_site(SameSite::Lax)
        .path("/setup")
        .secure(state.urls.base().url().scheme() == "https")
        .max_age(max_age)
        .build()
}

fn session_of(jar: &CookieJar) -> &str {
    jar.get(SESSION_COOKIE).map(Cookie::value).unwrap_or_default()
}

/// A 303 to `/setup`, never stored by a cache.
fn to_form(jar: CookieJar) -> Response {
    (jar, [(header::CACHE_CONTROL, "no-store")], Redirect::to("/setup")).into_response()
}

pub(super) async fn form(State(state): State<AppState>, jar: CookieJar, Query(query): Query<TokenQuery>) -> Response {
    if let Some(token) = query.token {
        return match setup::exchange_token(&state.db, &token).await {
            Ok(secret) => to_form(jar.add(session_cookie(&state, secret.expose().to_owned()))),
            // The spent link opened again in the browser that holds the session: carry on.
            Err(e) if e.kind == ErrorKind::Forbidden => match setup::check_session(&state.db, session_of(&jar)).await {
                Ok(()) => to_form(jar),
                Err(_) => error_page(&e),
            },
            Err(e) => error_page(&e),
        };
    }
    if let Err(e) = setup::check_session(&state.db, session_of(&jar)).await {
        return error_page(&e);
    }
    render(
        StatusCode::OK,
        &SetupPage {
            handle_domain: state.urls.handle_domain(),
            instance_name: String::new(),
            owner_email: String::new(),
            brand_username: String::new(),
            brand_display_name: String::new(),
            error: None,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct SetupForm {
    #[serde(default)]
    instance_name: String,
    #[serde(default)]
    owner_email: String,
    #[serde(default)]
    owner_password: String,
    #[serde(default)]
    brand_username: String,
    #[serde(default)]
    brand_display_name: String,
}

pub(super) async fn submit(State(state): State<AppState>, jar: CookieJar, Form(form): Form<SetupForm>) -> Response {
    let input = SetupInput {
        instance_name: form.instance_name.clone(),
        owner_email: form.owner_email.clone(),
        owner_password: Secret::new(form.owner_password),
        brand_username: form.brand_username.clone(),
        brand_display_name: form.brand_display_name.clone(),
    };
    match setup::complete(&state.db, &state.urls, session_of(&jar), input).await {
        Ok((owner, brand)) => {
            let page = render(
                StatusCode::CREATED,
                &SetupDonePage {
                    instance_name: form.instance_name.trim().to_owned(),
                    owner_email: owner.email,
                    brand: AccountCard::new(&brand, &state.urls),
                },
            );
            (jar.remove(session_cookie(&state, String::new())), page).into_response()
        }
        // A bad session gets the error page; anything else re-shows the form with the reason.
        Err(e @ AppError { kind: ErrorKind::Forbidden, .. }) => error_page(&e),
        Err(e) => {
            e.log();
            render(
                e.status(),
                &SetupPage {
                    handle_domain: state.urls.handle_domain(),
                    instance_name: form.instance_name,
                    owner_email: form.owner_email,
                    brand_username: form.brand_username,
                    brand_display_name: form.brand_display_name,
                    error: Some(e.message),
                },
            )
        }
    }
}
