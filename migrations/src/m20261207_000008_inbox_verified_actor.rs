//! Each stored inbound activity records the row of the actor whose key verified it
//! (FEDERATION.md I6). The inbox worker acts as that actor and never resolves the claimed
//! actor URL again over the network, so the network cannot decide a second time who the
//! actor is (a redirecting actor URL once let a worker credit an activity to an actor on
//! another server). Rows stored before this migration have no value; the worker resolves
//! their actor under the strict rule (the actor whose id equals the claimed URL).
//!
//! No foreign key: actor rows are never deleted (a deleted remote actor stays as a marker),
//! and SQLite cannot add a foreign key to an existing table.

use sea_orm_migration::{prelude::*, schema::big_integer_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InboxActivities::Table)
                    .add_column(big_integer_null(InboxActivities::ActorId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(InboxActivities::Table).drop_column(InboxActivities::ActorId).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum InboxActivities {
    Table,
    ActorId,
}
