//! Openhouse's database migrations: one file per migration, never edited once landed.
//!
//! The same migrations run on SQLite and PostgreSQL, so they use only the portable schema
//! builder: no raw SQL, no engine-specific types.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261123_000001_foundation;
mod m20261123_000002_federation_queues;
mod m20261123_000003_posts;
mod m20261123_000004_conversations;
mod m20261206_000005_inbox_lease_order;
mod m20261206_000006_partial_post_indexes;
mod m20261207_000007_follower_inboxes_index;
mod m20261207_000008_inbox_verified_actor;
mod m20261207_000009_inbox_lifecycle;

/// Runs every migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_federation_queues::Migration),
            Box::new(m20261123_000003_posts::Migration),
            Box::new(m20261123_000004_conversations::Migration),
            Box::new(m20261206_000005_inbox_lease_order::Migration),
            Box::new(m20261206_000006_partial_post_indexes::Migration),
            Box::new(m20261207_000007_follower_inboxes_index::Migration),
            Box::new(m20261207_000008_inbox_verified_actor::Migration),
            Box::new(m20261207_000009_inbox_lifecycle::Migration),
        ]
    }
}
