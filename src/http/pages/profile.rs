//! The HTML profile of an account, served at its actor URL to browsers and at `/@name`.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    db::entities::actors,
    domain::ProfileField,
    error::{AppError, AppResult},
    http::{
        extract::Representation,
        pages::{error_page, post::PostCard},
    },
    services::{accounts, instance, posts},
    state::AppState,
    text,
    urls::Urls,
};

/// An account as shown in lists.
pub struct AccountCard {
    pub display_name: String,
    pub handle: String,
    pub kind_label: &'static str,
    pub profile_path: String,
    pub locked: bool,
}

impl AccountCard {
    /// From a stored actor.
    pub fn new(actor: &actors::Model, urls: &Urls) -> Self {
        Self {
            display_name: actor.display_name.clone(),
            handle: format!("@{}@{}", actor.username, urls.handle_domain()),
            kind_label: actor.kind.label(),
            profile_path: format!("/@{}", actor.username),
            locked: actor.manually_approves_followers,
        }
    }
}

/// A profile field ready for the template: the value is HTML we built and escaped.
pub struct FieldView {
    pub name: String,
    pub value_html: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub instance_name: String,
    pub card: AccountCard,
    pub username: String,
    pub actor_id: String,
    pub summary_html: String,
    pub fields: Vec<FieldView>,
    pub error: Option<String>,
    pub account_input: String,
    /// The newest public and unlisted posts.
    pub posts: Vec<PostCard>,
}

impl ProfilePage {
    /// Builds the page for an actor.
    pub async fn load(state: &AppState, actor: &actors::Model) -> AppResult<Self> {
        let fields: Vec<ProfileField> = serde_json::from_str(&actor.profile_fields).unwrap_or_default();
        Ok(Self {
            instance_name: instance::name(&state.db).await?,
            card: AccountCard::new(actor, &state.urls),
            username: actor.username.clone(),
            actor_id: actor.ap_id.clone(),
            summary_html: text::paragraphs_to_html(&actor.summary),
            fields: fields
                .iter()
                .map(|f| FieldView {
                    name: f.name.clone(),
                    value_html: f.link().map_or_else(|| text::escape_html(&f.value), |l| text::link_html(&l)),
                })
                .collect(),
            error: None,
            account_input: String::new(),
            posts: posts::listed_page(&state.db, actor, 1)
                .await?
                .iter()
                .map(|d| PostCard::new(d, &state.urls))
                .collect(),
        })
    }
}

/// Renders the profile of `username`, or the 404 page.
pub async fn render_profile(state: &AppState, username: &str) -> AppResult<ProfilePage> {
    let actor = accounts::find(&state.db, username)
        .await?
        .ok_or_else(|| AppError::not_found("There is no account with that name here."))?;
    ProfilePage::load(state, &actor).await
}

/// The profile page as a response.
pub async fn render(state: &AppState, username: &str) -> Response {
    match render_profile(state, username).await {
        Ok(page) => super::render(StatusCode::OK, &page),
        Err(e) => error_page(&e),
    }
}

/// `GET /@{username}`: people's short link. Peers asking for JSON go to the actor id.
pub(super) async fn short_profile(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    wants: Representation,
) -> Response {
    let Some(username) = handle.strip_prefix('@') else {
        return super::not_found().await;
    };
    if wants == Representation::ActivityJson {
        return Redirect::permanent(&state.urls.actor(&username.to_ascii_lowercase())).into_response();
    }
    render(&state, username).await
}
