//! Queries, one file per aggregate. Functions take any connection or transaction, so the
//! service that owns the transaction decides what commits together.

pub mod activities;
pub mod actors;
pub mod blocks;
pub mod conversations;
pub mod deleted_objects;
pub mod deliveries;
pub mod follows;
pub mod hosts;
pub mod inbox;
pub mod outbox;
pub mod posts;
pub mod reactions;
pub mod reports;
pub mod settings;
pub mod threads;
pub mod tokens;
pub mod users;
