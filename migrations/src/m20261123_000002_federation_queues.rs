//! Federation state: remote-actor fields, follows, the durable inbox, and the durable
//! outbox: events recorded by services, the activities built from them, their per-inbox
//! deliveries, and per-host health.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            string_null(Actors::ApType),
            string_null(Actors::FollowingUrl),
            timestamp_with_time_zone_null(Actors::KeyRefetchedAt),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Actors::Table).add_column(&mut column).to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Follows::Table)
                    .col(big_pk_auto(Follows::Id))
                    .col(big_integer(Follows::FollowerId))
                    .col(big_integer(Follows::FolloweeId))
                    .col(string(Follows::State))
                    .col(string(Follows::FollowApId))
                    .col(timestamp_with_time_zone(Follows::CreatedAt))
                    .col(timestamp_with_time_zone_null(Follows::AcceptedAt))
                    .foreign_key(&mut fk("fk_follows_follower", Follows::Table, Follows::FollowerId))
                    .foreign_key(&mut fk("fk_follows_followee", Follows::Table, Follows::FolloweeId))
                    .to_owned(),
            )
            .await?;
        unique(manager, "ux_follows_pair", Follows::Table, &[Follows::FollowerId, Follows::FolloweeId]).await?;
        index(manager, "ix_follows_followee_state", Follows::Table, &[Follows::FolloweeId, Follows::State]).await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxActivities::Table)
                    .col(big_pk_auto(InboxActivities::Id))
                    .col(string_uniq(InboxActivities::ApId))
                    .col(string(InboxActivities::ActivityType))
                    .col(string(InboxActivities::ActorApId))
                    .col(text(InboxActivities::Payload))
                    .col(string(InboxActivities::State))
                    .col(integer(InboxActivities::Attempts).default(0))
                    .col(timestamp_with_time_zone(InboxActivities::ReceivedAt))
                    .col(timestamp_with_time_zone(InboxActivities::AvailableAt))
                    .col(timestamp_with_time_zone_null(InboxActivities::LeaseUntil))
                    .col(timestamp_with_time_zone_null(InboxActivities::ProcessedAt))
                    .col(text_null(InboxActivities::LastError))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_inbox_state_available",
            InboxActivities::Table,
            &[InboxActivities::State, InboxActivities::AvailableAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .col(big_pk_auto(OutboxEvents::Id))
                    .col(string(OutboxEvents::Kind))
                    .col(text(OutboxEvents::Payload))
                    .col(timestamp_with_time_zone(OutboxEvents::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboxEvents::ProcessedAt))
                    .col(integer(OutboxEvents::Attempts).default(0))
                    .col(text_null(OutboxEvents::LastError))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_outbox_events_processed", OutboxEvents::Table, &[OutboxEvents::ProcessedAt]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(big_pk_auto(Activities::Id))
                    .col(string_uniq(Activities::ApId))
                    .col(big_integer(Activities::ActorId))
                    .col(string(Activities::ActivityType))
                    .col(string_null(Activities::ObjectApId))
                    .col(text(Activities::Payload))
                    .col(text(Activities::Audience))
                    .col(timestamp_with_time_zone(Activities::CreatedAt))
                    .col(timestamp_with_time_zone_null(Activities::ExpandedAt))
                    .foreign_key(&mut fk("fk_activities_actor", Activities::Table, Activities::ActorId))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_activities_expanded", Activities::Table, &[Activities::ExpandedAt]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(big_pk_auto(Deliveries::Id))
                    .col(big_integer(Deliveries::ActivityId))
                    .col(string(Deliveries::InboxUrl))
                    .col(string(Deliveries::Host))
                    .col(string(Deliveries::State))
                    .col(integer(Deliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(Deliveries::NextAttemptAt))
                    .col(string_null(Deliveries::LeaseOwner))
                    .col(timestamp_with_time_zone_null(Deliveries::LeaseUntil))
                    .col(integer_null(Deliveries::LastStatus))
                    .col(text_null(Deliveries::LastError))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(Deliveries::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deliveries_activity")
                            .from(Deliveries::Table, Deliveries::ActivityId)
                            .to(Activities::Table, Activities::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_deliveries_activity_inbox",
            Deliveries::Table,
            &[Deliveries::ActivityId, Deliveries::InboxUrl],
        )
        .await?;
        index(manager, "ix_deliveries_due", Deliveries::Table, &[Deliveries::State, Deliveries::NextAttemptAt]).await?;
        index(manager, "ix_deliveries_host", Deliveries::Table, &[Deliveries::Host, Deliveries::State]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Hosts::Table)
                    .col(string(Hosts::Host).primary_key())
                    .col(integer(Hosts::ConsecutiveFailures).default(0))
                    .col(integer(Hosts::FailureDays).default(0))
                    .col(string_null(Hosts::LastFailureDay))
                    .col(boolean(Hosts::Unavailable).default(false))
                    .col(timestamp_with_time_zone_null(Hosts::BreakerOpenUntil))
                    .col(timestamp_with_time_zone_null(Hosts::LastSuccessAt))
                    .col(timestamp_with_time_zone(Hosts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Hosts::Table.into_iden(),
            Deliveries::Table.into_iden(),
            Activities::Table.into_iden(),
            OutboxEvents::Table.into_iden(),
            InboxActivities::Table.into_iden(),
            Follows::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in [Actors::KeyRefetchedAt, Actors::FollowingUrl, Actors::ApType] {
            manager.alter_table(Table::alter().table(Actors::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

fn fk<T: IntoIden + 'static, C: IntoIden + 'static>(name: &str, table: T, column: C) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Actors::Table, Actors::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum Actors {
    Table,
    Id,
    ApType,
    FollowingUrl,
    KeyRefetchedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Follows {
    Table,
    Id,
    FollowerId,
    FolloweeId,
    State,
    FollowApId,
    CreatedAt,
    AcceptedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum InboxActivities {
    Table,
    Id,
    ApId,
    ActivityType,
    ActorApId,
    Payload,
    State,
    Attempts,
    ReceivedAt,
    AvailableAt,
    LeaseUntil,
    ProcessedAt,
    LastError,
}

#[derive(DeriveIden, Clone, Copy)]
enum OutboxEvents {
    Table,
    Id,
    Kind,
    Payload,
    CreatedAt,
    ProcessedAt,
    Attempts,
    LastError,
}

#[derive(DeriveIden, Clone, Copy)]
enum Activities {
    Table,
    Id,
    ApId,
    ActorId,
    ActivityType,
    ObjectApId,
    Payload,
    Audience,
    CreatedAt,
    ExpandedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    Id,
    ActivityId,
    InboxUrl,
    Host,
    State,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastStatus,
    LastError,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Hosts {
    Table,
    Host,
    ConsecutiveFailures,
    FailureDays,
    LastFailureDay,
    Unavailable,
    BreakerOpenUntil,
    LastSuccessAt,
    UpdatedAt,
}
