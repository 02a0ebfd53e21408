//! `GET /`: the instance's public front page: its name and its accounts.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use crate::{
    error::AppResult,
    http::pages::{error_page, profile::AccountCard, render},
    services::{accounts, instance},
    state::AppState,
};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    instance_name: String,
    handle_domain: String,
    accounts: Vec<AccountCard>,
}

pub(super) async fn home(State(state): State<AppState>) -> Response {
    match page(&state).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&e),
    }
}

async fn page(state: &AppState) -> AppResult<HomePage> {
    let list = accounts::list(&state.db).await?;
    Ok(HomePage {
        instance_name: instance::name(&state.db).await?,
        handle_domain: state.urls.handle_domain(),
        accounts: list.iter().map(|a| AccountCard::new(a, &state.urls)).collect(),
    })
}
