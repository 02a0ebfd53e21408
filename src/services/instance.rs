//! Facts about the instance as a whole: its name, its permanent public URL, usage counts.

use sea_orm::DatabaseConnection;

use crate::{
    db::queries::{self, settings},
    error::{AppError, AppResult},
    urls::Urls,
};

/// The name shown when the owner has not chosen one.
pub const DEFAULT_NAME: &str = "Openhouse";
/// Longest instance name, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// The instance's display name.
pub async fn name(db: &DatabaseConnection) -> AppResult<String> {
    Ok(settings::get(db, settings::INSTANCE_NAME).await?.unwrap_or_else(|| DEFAULT_NAME.to_owned()))
}

/// Records the public URL on first start and refuses to run under another one later:
/// every id we ever published contains it, and peers cache them forever.
#[tracing::instrument(skip_all, fields(public_url = %urls.base()))]
pub async fn pin_public_url(db: &DatabaseConnection, urls: &Urls) -> AppResult<()> {
    let configured = urls.origin();
    let stored = settings::set_if_absent(db, settings::PUBLIC_URL, &configured).await?;
    if stored != configured {
        return Err(AppError::bad_request(format!(
            "this database belongs to the instance at {stored}, but public_url is {configured}; \
             ActivityPub ids are permanent, so the public URL cannot change after the first start"
        )));
    }
    Ok(())
}

/// Usage figures for NodeInfo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Local accounts (brand, product, staff).
    pub accounts: u64,
    /// Posts published by local accounts.
    pub local_posts: u64,
}

/// Current usage counts.
pub async fn usage(db: &DatabaseConnection) -> AppResult<Usage> {
    Ok(Usage {
        accounts: queries::actors::count_local_accounts(db).await?,
        local_posts: queries::posts::count_local_published(db).await?,
    })
}
