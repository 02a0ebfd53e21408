//! What the inbox keeps, and for how long (FEDERATION.md I12, I13, D7):
//!
//! - `deleted_objects`: a `Delete` of an object we never stored is remembered for a while,
//!   so that a `Create` of that id arriving after it (out of order) is refused. Keyed by the
//!   object's id, with the deleting actor (only its owner can cause this) and when.
//! - `ix_inbox_processed_at`: the retention task finds processed inbox rows older than the
//!   retention by this index instead of scanning the table.
//! - `hosts.probe_after`: an unavailable host gets one probe delivery a day; this is when
//!   the next one is due.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeletedObjects::Table)
                    .col(string(DeletedObjects::ApId).primary_key())
                    .col(big_integer(DeletedObjects::ActorId))
                    .col(timestamp_with_time_zone(DeletedObjects::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deleted_objects_actor")
                            .from(DeletedObjects::Table, DeletedObjects::ActorId)
                            .to(Actors::Table, Actors::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_deleted_objects_deleted_at", DeletedObjects::Table, &[DeletedObjects::DeletedAt]).await?;
        index(manager, "ix_inbox_processed_at", InboxActivities::Table, &[InboxActivities::ProcessedAt]).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Hosts::Table)
                    .add_column(timestamp_with_time_zone_null(Hosts::ProbeAfter))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Hosts::Table).drop_column(Hosts::ProbeAfter).to_owned()).await?;
        manager
            .drop_index(Index::drop().name("ix_inbox_processed_at").table(InboxActivities::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(DeletedObjects::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DeletedObjects {
    Table,
    ApId,
    ActorId,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Actors {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum InboxActivities {
    Table,
    ProcessedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Hosts {
    Table,
    ProbeAfter,
}
