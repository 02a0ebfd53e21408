//! Local accounts: the brand, its products and its staff, as the fediverse sees them.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, SqlErr};

use crate::{
    crypto,
    db::{entities::actors, queries},
    domain::{ActorKind, ProfileField, Username, profile_field::MAX_PROFILE_FIELDS},
    error::{AppError, AppResult, ErrorKind},
    services::blocking,
    urls::Urls,
};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_LEN: usize = 100;
/// Longest bio, in characters (Mastodon's local limit).
pub const MAX_SUMMARY_LEN: usize = 500;

/// What a caller supplies to create an account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: Username,
    pub kind: ActorKind,
    pub display_name: String,
    /// Plain text; paragraphs are separated by blank lines.
    pub summary: String,
    /// Follow requests wait for staff approval (beta programs).
    pub locked: bool,
    pub fields: Vec<ProfileField>,
}

/// A validated account with its keys, ready to insert in a transaction.
pub struct PreparedAccount(queries::actors::NewLocalActor);

/// Validates the input and generates the key pair: everything that may fail or take time
/// before a transaction opens.
pub async fn prepare(urls: &Urls, new: NewAccount) -> AppResult<PreparedAccount> {
    if new.kind == ActorKind::Instance {
        return Err(AppError::bad_request("the instance actor is created by Openhouse itself"));
    }
    let display_name = new.display_name.trim().to_owned();
    if display_name.is_empty() {
        return Err(AppError::bad_request("the display name cannot be empty"));
    }
    if display_name.chars().count() > MAX_DISPLAY_NAME_LEN {
        return Err(AppError::bad_request(format!(
            "the display name is longer than {MAX_DISPLAY_NAME_LEN} characters"
        )));
    }
    let summary = new.summary.trim().to_owned();
    if summary.chars().count() > MAX_SUMMARY_LEN {
        return Err(AppError::bad_request(format!("the summary is longer than {MAX_SUMMARY_LEN} characters")));
    }
    if new.fields.len() > MAX_PROFILE_FIELDS {
        return Err(AppError::bad_request(format!("at most {MAX_PROFILE_FIELDS} profile fields")));
    }
    let fields_json = serde_json::to_string(&new.fields).map_err(AppError::internal)?;
    let keys = blocking(crypto::generate_rsa_keys).await?;
    let username = new.username.as_str();
    Ok(PreparedAccount(queries::actors::NewLocalActor {
        ap_id: urls.actor(username),
        username: username.to_owned(),
        domain: urls.handle_domain(),
        kind: new.kind,
        display_name,
        summary,
        profile_fields_json: fields_json,
        inbox_url: urls.actor_collection(username, "inbox"),
        shared_inbox_url: urls.shared_inbox(),
        outbox_url: urls.actor_collection(username, "outbox"),
        followers_url: urls.actor_collection(username, "followers"),
        profile_url: urls.profile(username),
        public_key_pem: keys.public_pem,
        public_key_id: urls.actor_key(username),
        private_key_pem: keys.private_pem,
        manually_approves_followers: new.locked,
        now: Utc::now(),
    }))
}

/// Inserts a prepared account inside the caller's transaction. A taken username is a
/// [`ErrorKind::Conflict`] naming it.
pub async fn insert(db: &impl ConnectionTrait, prepared: PreparedAccount) -> AppResult<actors::Model> {
    let username = prepared.0.username.clone();
    if queries::actors::find_local_by_username(db, &username).await?.is_some() {
        return Err(taken(&username));
    }
    queries::actors::insert_local(db, prepared.0).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => taken(&username),
        _ => AppError::from(e),
    })
}

fn taken(username: &str) -> AppError {
    AppError::new(ErrorKind::Conflict, format!("the username {username:?} is already taken"))
}

/// Creates an account: its actor and key pair commit together or not at all.
#[tracing::instrument(skip_all, fields(username = %new.username, kind = %new.kind))]
pub async fn create(db: &DatabaseConnection, urls: &Urls, new: NewAccount) -> AppResult<actors::Model> {
    let prepared = prepare(urls, new).await?;
    let txn = crate::db::begin_write(db).await?;
    let actor = insert(&txn, prepared).await?;
    txn.commit().await?;
    tracing::info!(ap_id = %actor.ap_id, "account created");
    Ok(actor)
}

/// A local account (not the instance actor) by username. Case-insensitive, as handles are.
pub async fn find(db: &DatabaseConnection, username: &str) -> AppResult<Option<actors::Model>> {
    let actor = queries::actors::find_local_by_username(db, &username.to_ascii_lowercase()).await?;
    Ok(actor.filter(|a| a.kind != ActorKind::Instance))
}

/// Every local account, brand first.
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<actors::Model>> {
    Ok(queries::actors::list_local_accounts(db).await?)
}

/// The instance actor, created on first use. Its username is our host name, as Mastodon
/// does, so `acct:host@host` finds it.
#[tracing::instrument(skip_all)]
pub async fn instance_actor(db: &DatabaseConnection, urls: &Urls) -> AppResult<actors::Model> {
    if let Some(actor) = queries::actors::find_instance_actor(db).await? {
        return Ok(actor);
    }
    let keys = blocking(crypto::generate_rsa_keys).await?;
    let username = urls.base().host().to_ascii_lowercase();
    let now = Utc::now();
    let id = urls.instance_actor();
    let new = queries::actors::NewLocalActor {
        ap_id: id.clone(),
        username,
        domain: urls.handle_domain(),
        kind: ActorKind::Instance,
        display_name: urls.handle_domain(),
        summary: String::new(),
        profile_fields_json: "[]".into(),
        inbox_url: format!("{id}/inbox"),
        shared_inbox_url: urls.shared_inbox(),
        outbox_url: format!("{id}/outbox"),
        followers_url: format!("{id}/followers"),
        profile_url: urls.origin(),
        public_key_pem: keys.public_pem,
        public_key_id: urls.instance_actor_key(),
        private_key_pem: keys.private_pem,
        manually_approves_followers: true,
        now,
    };
    let txn = crate::db::begin_write(db).await?;
    let inserted = queries::actors::insert_local(&txn, new).await;
    match inserted {
        Ok(actor) => {
            txn.commit().await?;
            Ok(actor)
        }
        // Another process created it first: use theirs.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            queries::actors::find_instance_actor(db)
                .await?
                .ok_or_else(|| AppError::internal(DbErr::Custom("instance actor vanished".into())))
        }
        Err(e) => Err(e.into()),
    }
}

/// Any local actor a peer may discover, the instance actor included, by username.
pub async fn find_discoverable(db: &DatabaseConnection, username: &str) -> AppResult<Option<actors::Model>> {
    Ok(queries::actors::find_local_by_username(db, &username.to_ascii_lowercase()).await?)
}

/// A local actor by its id URL.
pub async fn find_by_id_url(db: &DatabaseConnection, id: &str) -> AppResult<Option<actors::Model>> {
    Ok(queries::actors::find_by_ap_id(db, id).await?.filter(|a| a.local))
}
