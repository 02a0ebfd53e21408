//! `GET /users/{username}` and `GET /actor`: the actor document for peers, the profile page
//! for browsers, on the same URL (FEDERATION.md §1).

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    error::{AppError, AppResult},
    federation::objects::actor::ApubActor,
    http::{
        extract::{ActivityJson, Representation},
        pages,
    },
    services::accounts,
    state::AppState,
};

pub(super) async fn actor(
    State(state): State<AppState>,
    Path(username): Path<String>,
    wants: Representation,
) -> Response {
    match wants {
        Representation::Html => pages::profile::render(&state, &username).await,
        Representation::ActivityJson => actor_json(&state, &username).await.into_response(),
    }
}

async fn actor_json(state: &AppState, username: &str) -> AppResult<Response> {
    let actor = accounts::find(&state.db, username).await?.ok_or_else(|| AppError::not_found("no such account"))?;
    let json = ApubActor(actor).into_json(&state.urls).map_err(AppError::internal)?;
    Ok(ActivityJson(json).into_response())
}

pub(super) async fn instance_actor(State(state): State<AppState>, wants: Representation) -> AppResult<Response> {
    if wants == Representation::Html {
        return Ok(Redirect::to("/").into_response());
    }
    let actor = accounts::instance_actor(&state.db, &state.urls).await?;
    let json = ApubActor(actor).into_json(&state.urls).map_err(AppError::internal)?;
    Ok(ActivityJson(json).into_response())
}
