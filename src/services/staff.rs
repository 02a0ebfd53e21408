//! Staff users who sign in to the console.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, SqlErr};

use crate::{
    db::{entities::users, queries},
    domain::{Email, Role},
    error::{AppError, AppResult, ErrorKind},
    secrets::{self, Secret},
    services::blocking,
};

/// Checks the password policy and hashes the password (argon2id, off the executor).
pub async fn hash_new_password(password: &Secret) -> AppResult<String> {
    secrets::check_password_policy(password.expose()).map_err(AppError::bad_request)?;
    let password = password.clone();
    blocking(move || secrets::hash_password(password.expose())).await
}

/// Inserts a user inside the caller's transaction. A taken e-mail is a conflict.
pub async fn insert(
    db: &impl ConnectionTrait,
    email: &Email,
    password_hash: String,
    role: Role,
    actor_id: Option<i64>,
) -> AppResult<users::Model> {
    if queries::users::find_by_email(db, email.as_str()).await?.is_some() {
        return Err(taken(email));
    }
    queries::users::insert(db, email.as_str(), password_hash, role, actor_id, Utc::now()).await.map_err(|e| {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => taken(email),
            _ => AppError::from(e),
        }
    })
}

fn taken(email: &Email) -> AppError {
    AppError::new(ErrorKind::Conflict, format!("a user with the e-mail {email} already exists"))
}

/// Creates a staff user.
#[tracing::instrument(skip_all, fields(email = %email, role = %role))]
pub async fn create(db: &DatabaseConnection, email: &Email, password: &Secret, role: Role) -> AppResult<users::Model> {
    let hash = hash_new_password(password).await?;
    let user = insert(db, email, hash, role, None).await?;
    tracing::info!(user_id = user.id, "staff user created");
    Ok(user)
}

/// Checks an e-mail and password pair; `None` when either is wrong (never says which).
#[tracing::instrument(skip_all)]
pub async fn authenticate(db: &DatabaseConnection, email: &str, password: &Secret) -> AppResult<Option<users::Model>> {
    let Ok(email) = Email::parse(email) else { return Ok(None) };
    let user = queries::users::find_by_email(db, email.as_str()).await?;
    let Some(user) = user else { return Ok(None) };
    let (password, phc) = (password.clone(), user.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(password.expose(), &phc))
        .await
        .map_err(AppError::internal)?;
    Ok(ok.then_some(user))
}
