//! Publishing: posts (local and, later, remote), their mentions and hashtags, uploaded
//! media, and the API tokens that release pipelines publish with.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(big_pk_auto(Posts::Id))
                    .col(string_uniq(Posts::ApId))
                    .col(big_integer(Posts::ActorId))
                    .col(boolean(Posts::Local))
                    .col(text(Posts::ContentSource))
                    .col(text(Posts::ContentHtml))
                    .col(text_null(Posts::Summary))
                    .col(boolean(Posts::Sensitive).default(false))
                    .col(string(Posts::Visibility))
                    .col(string_null(Posts::InReplyToApId))
                    .col(timestamp_with_time_zone_null(Posts::PublishedAt))
                    .col(timestamp_with_time_zone_null(Posts::ScheduledAt))
                    .col(timestamp_with_time_zone_null(Posts::EditedAt))
                    .col(timestamp_with_time_zone_null(Posts::DeletedAt))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .foreign_key(&mut to_actor("fk_posts_actor", Posts::Table, Posts::ActorId))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_posts_actor_published", Posts::Table, &[Posts::ActorId, Posts::PublishedAt]).await?;
        index(manager, "ix_posts_scheduled", Posts::Table, &[Posts::ScheduledAt, Posts::PublishedAt]).await?;

        manager
            .create_table(
                Table::create()
                    .table(PostMentions::Table)
                    .col(big_pk_auto(PostMentions::Id))
                    .col(big_integer(PostMentions::PostId))
                    .col(big_integer(PostMentions::ActorId))
                    .col(string(PostMentions::Href))
                    .col(string(PostMentions::Name))
                    .foreign_key(&mut to_post("fk_post_mentions_post", PostMentions::Table, PostMentions::PostId))
                    .foreign_key(&mut to_actor("fk_post_mentions_actor", PostMentions::Table, PostMentions::ActorId))
                    .to_owned(),
            )
            .await?;
        unique(manager, "ux_post_mentions_pair", PostMentions::Table, &[PostMentions::PostId, PostMentions::ActorId])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PostTags::Table)
                    .col(big_pk_auto(PostTags::Id))
                    .col(big_integer(PostTags::PostId))
                    .col(string(PostTags::Name))
                    .col(string(PostTags::Href))
                    .foreign_key(&mut to_post("fk_post_tags_post", PostTags::Table, PostTags::PostId))
                    .to_owned(),
            )
            .await?;
        unique(manager, "ux_post_tags_pair", PostTags::Table, &[PostTags::PostId, PostTags::Name]).await?;
        index(manager, "ix_post_tags_name", PostTags::Table, &[PostTags::Name]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .col(big_pk_auto(Media::Id))
                    .col(big_integer_null(Media::PostId))
                    .col(big_integer(Media::ActorId))
                    .col(string_uniq(Media::FileName))
                    .col(string(Media::MediaType))
                    .col(big_integer(Media::Size))
                    .col(text(Media::AltText))
                    .col(timestamp_with_time_zone(Media::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_media_post")
                            .from(Media::Table, Media::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(&mut to_actor("fk_media_actor", Media::Table, Media::ActorId))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_media_post", Media::Table, &[Media::PostId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(string(ApiTokens::Name))
                    .col(string_uniq(ApiTokens::TokenDigest))
                    .col(big_integer_null(ApiTokens::ActorId))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .foreign_key(&mut to_actor("fk_api_tokens_actor", ApiTokens::Table, ApiTokens::ActorId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiTokens::Table.into_iden(),
            Media::Table.into_iden(),
            PostTags::Table.into_iden(),
            PostMentions::Table.into_iden(),
            Posts::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

fn to_actor<T: IntoIden + 'static, C: IntoIden + 'static>(
    name: &str,
    table: T,
    column: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Actors::Table, Actors::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn to_post<T: IntoIden + 'static, C: IntoIden + 'static>(name: &str, table: T, column: C) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Posts::Table, Posts::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum Actors {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    ApId,
    ActorId,
    Local,
    ContentSource,
    ContentHtml,
    Summary,
    Sensitive,
    Visibility,
    InReplyToApId,
    PublishedAt,
    ScheduledAt,
    EditedAt,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostMentions {
    Table,
    Id,
    PostId,
    ActorId,
    Href,
    Name,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTags {
    Table,
    Id,
    PostId,
    Name,
    Href,
}

// The column is `media_type`, whatever clippy thinks of the variant's name.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden, Clone, Copy)]
enum Media {
    Table,
    Id,
    PostId,
    ActorId,
    FileName,
    MediaType,
    Size,
    AltText,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Id,
    Name,
    TokenDigest,
    ActorId,
    CreatedAt,
    LastUsedAt,
}
