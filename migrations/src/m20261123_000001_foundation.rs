//! The foundation: actors (local and remote in one table), their private keys (apart, so
//! a loaded actor never carries one), staff users, and instance settings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Actors::Table)
                    .col(big_pk_auto(Actors::Id))
                    .col(string_uniq(Actors::ApId))
                    .col(string(Actors::Username))
                    .col(string(Actors::Domain))
                    .col(boolean(Actors::Local))
                    .col(string(Actors::Kind))
                    .col(string(Actors::DisplayName))
                    .col(text(Actors::Summary))
                    .col(text(Actors::ProfileFields))
                    .col(string_null(Actors::InboxUrl))
                    .col(string_null(Actors::SharedInboxUrl))
                    .col(string_null(Actors::OutboxUrl))
                    .col(string_null(Actors::FollowersUrl))
                    .col(string_null(Actors::ProfileUrl))
                    .col(string_null(Actors::IconUrl))
                    .col(string_null(Actors::ImageUrl))
                    .col(text(Actors::PublicKeyPem))
                    .col(string(Actors::PublicKeyId))
                    .col(boolean(Actors::ManuallyApprovesFollowers))
                    .col(boolean(Actors::Discoverable))
                    .col(timestamp_with_time_zone(Actors::Published))
                    .col(timestamp_with_time_zone(Actors::CreatedAt))
                    .col(timestamp_with_time_zone(Actors::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Actors::LastFetchedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_actors_domain_username")
                    .table(Actors::Table)
                    .col(Actors::Domain)
                    .col(Actors::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_actors_local_kind")
                    .table(Actors::Table)
                    .col(Actors::Local)
                    .col(Actors::Kind)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActorKeys::Table)
                    .col(big_integer(ActorKeys::ActorId).primary_key())
                    .col(text(ActorKeys::PrivateKeyPem))
                    .col(timestamp_with_time_zone(ActorKeys::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_actor_keys_actor")
                            .from(ActorKeys::Table, ActorKeys::ActorId)
                            .to(Actors::Table, Actors::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_uniq(Users::Email))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::Role))
                    .col(big_integer_null(Users::ActorId))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_actor")
                            .from(Users::Table, Users::ActorId)
                            .to(Actors::Table, Actors::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_users_role").table(Users::Table).col(Users::Role).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InstanceSettings::Table)
                    .col(string(InstanceSettings::Key).primary_key())
                    .col(text(InstanceSettings::Value))
                    .col(timestamp_with_time_zone(InstanceSettings::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InstanceSettings::Table.into_iden(),
            Users::Table.into_iden(),
            ActorKeys::Table.into_iden(),
            Actors::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Actors {
    Table,
    Id,
    ApId,
    Username,
    Domain,
    Local,
    Kind,
    DisplayName,
    Summary,
    ProfileFields,
    InboxUrl,
    SharedInboxUrl,
    OutboxUrl,
    FollowersUrl,
    ProfileUrl,
    IconUrl,
    ImageUrl,
    PublicKeyPem,
    PublicKeyId,
    ManuallyApprovesFollowers,
    Discoverable,
    Published,
    CreatedAt,
    UpdatedAt,
    LastFetchedAt,
}

#[derive(DeriveIden)]
enum ActorKeys {
    Table,
    ActorId,
    PrivateKeyPem,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Role,
    ActorId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    Key,
    Value,
    UpdatedAt,
}
