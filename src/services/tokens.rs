//! API tokens for release pipelines: created from the CLI, shown once, stored as SHA-256.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::{actors, api_tokens},
        queries,
    },
    error::{AppError, AppResult},
    secrets::{self, Secret},
};

/// The prefix of every token, so that secret scanners recognise a leaked one.
pub const TOKEN_PREFIX: &str = "oh_";
/// Longest token name.
pub const MAX_NAME_CHARS: usize = 100;

/// Creates a token named `name`, limited to `actor` when one is given. Returns the stored
/// row and the token itself, which is never stored and cannot be shown again.
#[tracing::instrument(skip(db, actor), fields(actor = actor.map(|a| a.username.as_str())))]
pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    actor: Option<&actors::Model>,
) -> AppResult<(api_tokens::Model, Secret)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::unprocessable(format!("a token needs a name of 1 to {MAX_NAME_CHARS} characters")));
    }
    if actor.is_some_and(|a| !a.local) {
        return Err(AppError::unprocessable("tokens publish as local accounts only"));
    }
    let token = Secret::new(format!("{TOKEN_PREFIX}{}", secrets::random_token().map_err(AppError::internal)?));
    let digest = secrets::token_digest(token.expose());
    let row = queries::tokens::insert(db, name, &digest, actor.map(|a| a.id), Utc::now()).await?;
    Ok((row, token))
}

/// The token a bearer presented, if it is one of ours (its last use is recorded, to the minute).
pub async fn authenticate(db: &DatabaseConnection, presented: &str) -> AppResult<api_tokens::Model> {
    let presented = presented.trim();
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 200 {
        return Err(AppError::unauthorized("the API token is not valid"));
    }
    let row = queries::tokens::find_by_digest(db, &secrets::token_digest(presented))
        .await?
        .filter(|row| secrets::token_matches(presented, &row.token_digest))
        .ok_or_else(|| AppError::unauthorized("the API token is not valid"))?;
    // The use is recorded to the minute: not a write (and a turn at SQLite's write lock)
    // for every API request.
    let now = Utc::now();
    if row.last_used_at.is_none_or(|at| now - at >= chrono::Duration::minutes(1)) {
        queries::tokens::touch(crate::db::writer(db).await?.connection(), row.id, now).await?;
    }
    Ok(row)
}

/// Whether `token` may act as `actor`.
pub fn may_act_as(token: &api_tokens::Model, actor: &actors::Model) -> bool {
    actor.local && token.actor_id.is_none_or(|id| id == actor.id)
}

/// Every token, oldest first.
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<api_tokens::Model>> {
    Ok(queries::tokens::list(db).await?)
}

/// Revokes a token.
#[tracing::instrument(skip(db))]
pub async fn revoke(db: &DatabaseConnection, id: i64) -> AppResult<()> {
    if queries::tokens::delete(db, id).await? { Ok(()) } else { Err(AppError::not_found(format!("no API token {id}"))) }
}
