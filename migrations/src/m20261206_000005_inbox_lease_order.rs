//! The inbox worker leases the oldest pending rows (`ORDER BY id LIMIT n`). With the index
//! on `(state, available_at)` the database read every pending row and sorted them to find
//! the oldest: a lease cost grew with the backlog (measured on SQLite with 100,000 pending
//! rows: 117 ms per lease of 64 rows), so a worker that fell behind fell further behind.
//! An index on `(state, id)` walks the pending rows in id order and stops after `n`
//! (0.7 ms in the same measurement). The old index served only that query: it goes.

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "ix_inbox_state_available";
const NEW: &str = "ix_inbox_state_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, NEW, InboxActivities::Table, &[InboxActivities::State, InboxActivities::Id]).await?;
        manager.drop_index(Index::drop().name(OLD).table(InboxActivities::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, OLD, InboxActivities::Table, &[InboxActivities::State, InboxActivities::AvailableAt]).await?;
        manager.drop_index(Index::drop().name(NEW).table(InboxActivities::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum InboxActivities {
    Table,
    Id,
    State,
    AvailableAt,
}
