//! First run: until an owner exists, `serve` prints a one-time link to `/setup`, where the
//! owner account and the first brand account are created together.
//!
//! The link's token is used once: opening it exchanges it for a setup session, a new random
//! secret the browser keeps in a cookie for [`SESSION_LIFETIME`], and the token is gone, so
//! the link copied into a log, a proxy or a browser history is worthless once opened. Only
//! SHA-256 digests are stored. Each start of `serve` issues a fresh token (the link in the
//! newest log is the valid one); exchanging a token replaces any earlier session; completing
//! setup deletes both.

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::{actors, users},
        queries::{self, settings},
    },
    domain::{ActorKind, Email, Role, Username},
    error::{AppError, AppResult, ErrorKind},
    secrets::{self, Secret},
    services::{accounts, instance::MAX_NAME_LEN, staff},
    urls::Urls,
};

/// Whether the instance still needs its owner.
pub async fn is_pending(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(!queries::users::owner_exists(db).await?)
}

/// Issues a new setup token when no owner exists; returns it (to print) or `None`.
#[tracing::instrument(skip_all)]
pub async fn issue_token_if_needed(db: &DatabaseConnection) -> AppResult<Option<Secret>> {
    if !is_pending(db).await? {
        return Ok(None);
    }
    let token = secrets::random_token().map_err(AppError::internal)?;
    settings::set(db, settings::SETUP_TOKEN_SHA256, &secrets::token_digest(&token)).await?;
    Ok(Some(Secret::new(token)))
}

/// How long a setup session lasts after its link was opened.
pub const SESSION_LIFETIME: Duration = Duration::minutes(30);

fn invalid_link() -> AppError {
    AppError::new(
        ErrorKind::Forbidden,
        "this setup link is not valid: it works once, in one browser. Restart `openhouse serve` \
         to print a new one (it does while no owner exists)",
    )
}

fn invalid_session() -> AppError {
    AppError::new(
        ErrorKind::Forbidden,
        "this setup session is not valid or has expired (sessions last 30 minutes). Restart \
         `openhouse serve` to print a new setup link (it does while no owner exists), and open it",
    )
}

/// Checks a setup link's token. Wrong, used or absent tokens all get the same answer.
pub async fn check_token(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    let stored = settings::get(db, settings::SETUP_TOKEN_SHA256).await?;
    match stored {
        Some(digest) if is_pending(db).await? && secrets::token_matches(token, &digest) => Ok(()),
        _ => Err(invalid_link()),
    }
}

/// Exchanges a setup link's token, once, for a session secret (for the browser's cookie)
/// that expires after [`SESSION_LIFETIME`]. The token is deleted in the same transaction,
/// so of two browsers opening one link only one gets a session.
#[tracing::instrument(skip_all)]
pub async fn exchange_token(db: &DatabaseConnection, token: &str) -> AppResult<Secret> {
    check_token(db, token).await?;
    let secret = secrets::random_token().map_err(AppError::internal)?;
    let expires = Utc::now() + SESSION_LIFETIME;
    let txn = crate::db::begin_write(db).await?;
    // Re-checked inside the transaction: the delete succeeds for one exchange only.
    let stored = settings::get(&txn, settings::SETUP_TOKEN_SHA256).await?;
    if !stored.is_some_and(|digest| secrets::token_matches(token, &digest))
        || queries::users::owner_exists(&txn).await?
        || !settings::delete(&txn, settings::SETUP_TOKEN_SHA256).await?
    {
        return Err(invalid_link());
    }
    let session = format!("{}:{}", expires.timestamp(), secrets::token_digest(&secret));
    settings::set(&txn, settings::SETUP_SESSION, &session).await?;
    txn.commit().await?;
    tracing::info!(%expires, "setup link opened; its token is spent");
    Ok(Secret::new(secret))
}

/// Checks a setup session secret (from the cookie): the current session's, not expired.
pub async fn check_session(db: &DatabaseConnection, secret: &str) -> AppResult<()> {
    let stored = settings::get(db, settings::SETUP_SESSION).await?;
    let valid = stored.as_deref().and_then(|s| s.split_once(':')).is_some_and(|(expires, digest)| {
        let expires = expires.parse::<i64>().ok().and_then(|t| DateTime::<Utc>::from_timestamp(t, 0));
        expires.is_some_and(|e| Utc::now() < e) && secrets::token_matches(secret, digest)
    });
    if valid && is_pending(db).await? { Ok(()) } else { Err(invalid_session()) }
}

/// What the setup form collects.
#[derive(Clone, Debug)]
pub struct SetupInput {
    pub instance_name: String,
    pub owner_email: String,
    pub owner_password: Secret,
    pub brand_username: String,
    pub brand_display_name: String,
}

/// Creates the owner and the first brand account in one transaction and retires the
/// session (and any newer link).
#[tracing::instrument(skip_all)]
pub async fn complete(
    db: &DatabaseConnection,
    urls: &Urls,
    session: &str,
    input: SetupInput,
) -> AppResult<(users::Model, actors::Model)> {
    check_session(db, session).await?;
    let instance_name = input.instance_name.trim().to_owned();
    if instance_name.is_empty() || instance_name.chars().count() > MAX_NAME_LEN {
        return Err(AppError::bad_request(format!("the instance name needs 1 to {MAX_NAME_LEN} characters")));
    }
    let email = Email::parse(&input.owner_email).map_err(AppError::bad_request)?;
    let username = Username::parse(input.brand_username.trim()).map_err(AppError::bad_request)?;
    let password_hash = staff::hash_new_password(&input.owner_password).await?;
    let brand = accounts::prepare(
        urls,
        accounts::NewAccount {
            username,
            kind: ActorKind::Brand,
            display_name: input.brand_display_name,
            summary: String::new(),
            locked: false,
            fields: Vec::new(),
        },
    )
    .await?;

    let txn = crate::db::begin_write(db).await?;
    // Re-checked inside the transaction: two submissions of the form race here.
    if queries::users::owner_exists(&txn).await? || !settings::delete(&txn, settings::SETUP_SESSION).await? {
        return Err(AppError::conflict("setup has already been completed"));
    }
    settings::delete(&txn, settings::SETUP_TOKEN_SHA256).await?;
    let owner = staff::insert(&txn, &email, password_hash, Role::Owner, None).await?;
    let brand = accounts::insert(&txn, brand).await?;
    settings::set(&txn, settings::INSTANCE_NAME, &instance_name).await?;
    txn.commit().await?;
    tracing::info!(owner = %owner.email, brand = %brand.ap_id, "setup completed");
    Ok((owner, brand))
}
