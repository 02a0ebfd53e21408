//! `/setup?token=…`: the first-run page that creates the owner and the first brand account.
//! The token comes from the log line `openhouse serve` prints while no owner exists.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use crate::{
    error::AppError,
    http::pages::{error_page, profile::AccountCard, render},
    secrets::Secret,
    services::setup::{self, SetupInput},
    state::AppState,
};

#[derive(Debug, Deserialize)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    token: String,
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

pub(super) async fn form(State(state): State<AppState>, Query(query): Query<TokenQuery>) -> Response {
    let token = query.token.unwrap_or_default();
    if let Err(e) = setup::check_token(&state.db, &token).await {
        return error_page(&e);
    }
    render(
        StatusCode::OK,
        &SetupPage {
            token,
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
    token: String,
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

pub(super) async fn submit(State(state): State<AppState>, Form(form): Form<SetupForm>) -> Response {
    let input = SetupInput {
        instance_name: form.instance_name.clone(),
        owner_email: form.owner_email.clone(),
        owner_password: Secret::new(form.owner_password),
        brand_username: form.brand_username.clone(),
        brand_display_name: form.brand_display_name.clone(),
    };
    match setup::complete(&state.db, &state.urls, &form.token, input).await {
        Ok((owner, brand)) => render(
            StatusCode::CREATED,
            &SetupDonePage {
                instance_name: form.instance_name.trim().to_owned(),
                owner_email: owner.email,
                brand: AccountCard::new(&brand, &state.urls),
            },
        ),
        // A bad token gets the error page; anything else re-shows the form with the reason.
        Err(e @ AppError { kind: crate::error::ErrorKind::Forbidden, .. }) => error_page(&e),
        Err(e) => {
            e.log();
            render(
                e.status(),
                &SetupPage {
                    token: form.token,
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
