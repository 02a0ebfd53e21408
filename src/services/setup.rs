//! First run: until an owner exists, `serve` prints a one-time link to `/setup`, where the
//! owner account and the first brand account are created together.
//!
//! Only the SHA-256 of the token is stored. Each start of `serve` issues a fresh token (the
//! link in the newest log is the valid one); completing setup deletes it.

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
pub async fn issue_token_if_needed(db: &DatabaseConnection) -> AppResult<Option<Secret>> {
    if !is_pending(db).await? {
        return Ok(None);
    }
    let token = secrets::random_token().map_err(AppError::internal)?;
    settings::set(db, settings::SETUP_TOKEN_SHA256, &secrets::token_digest(&token)).await?;
    Ok(Some(Secret::new(token)))
}

/// Checks a setup token. Wrong, used or absent tokens all get the same answer.
pub async fn check_token(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    let stored = settings::get(db, settings::SETUP_TOKEN_SHA256).await?;
    match stored {
        Some(digest) if is_pending(db).await? && secrets::token_matches(token, &digest) => Ok(()),
        _ => Err(AppError::new(
            ErrorKind::Forbidden,
            "this setup link is not valid; use the newest link printed by `openhouse serve`",
        )),
    }
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

/// Creates the owner and the first brand account in one transaction and retires the token.
#[tracing::instrument(skip_all)]
pub async fn complete(
    db: &DatabaseConnection,
    urls: &Urls,
    token: &str,
    input: SetupInput,
) -> AppResult<(users::Model, actors::Model)> {
    check_token(db, token).await?;
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
    if queries::users::owner_exists(&txn).await? || !settings::delete(&txn, settings::SETUP_TOKEN_SHA256).await? {
        return Err(AppError::conflict("setup has already been completed"));
    }
    let owner = staff::insert(&txn, &email, password_hash, Role::Owner, None).await?;
    let brand = accounts::insert(&txn, brand).await?;
    settings::set(&txn, settings::INSTANCE_NAME, &instance_name).await?;
    txn.commit().await?;
    tracing::info!(owner = %owner.email, brand = %brand.ap_id, "setup completed");
    Ok((owner, brand))
}
