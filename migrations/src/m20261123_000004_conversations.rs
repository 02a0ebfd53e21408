//! Conversations: remote notes stored as `posts` rows and threaded (parent link, thread
//! root, depth, a pending parent fetch), likes and announces with counters on the post,
//! the staff conversations inbox, reports (`Flag`), blocks, and what `Move` and the
//! `Delete` of an actor need on `actors`. See docs/adr/0008-remote-notes-and-threads.md.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE, and no foreign key on an added column:
        // the parent and root links are kept by the services (posts are soft-deleted, so a
        // linked row never disappears under a reply).
        for column in [
            string_null(Posts::Url),
            big_integer_null(Posts::InReplyToPostId),
            big_integer_null(Posts::ThreadRootId),
            integer(Posts::Depth).default(0).to_owned(),
            integer(Posts::LikesCount).default(0).to_owned(),
            integer(Posts::AnnouncesCount).default(0).to_owned(),
            text_null(Posts::Attachments),
            timestamp_with_time_zone_null(Posts::ParentFetchAfter),
            integer(Posts::ParentFetchAttempts).default(0).to_owned(),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Posts::Table).add_column(&mut column).to_owned()).await?;
        }
        index(manager, "ix_posts_in_reply_to_ap_id", Posts::Table, &[Posts::InReplyToApId]).await?;
        index(manager, "ix_posts_parent", Posts::Table, &[Posts::InReplyToPostId, Posts::PublishedAt]).await?;
        index(manager, "ix_posts_thread", Posts::Table, &[Posts::ThreadRootId, Posts::Depth, Posts::PublishedAt])
            .await?;
        index(manager, "ix_posts_parent_fetch", Posts::Table, &[Posts::ParentFetchAfter]).await?;

        for column in [
            text_null(Actors::AlsoKnownAs),
            string_null(Actors::MovedToApId),
            timestamp_with_time_zone_null(Actors::DeletedAt),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Actors::Table).add_column(&mut column).to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Reactions::Table)
                    .col(big_pk_auto(Reactions::Id))
                    .col(big_integer(Reactions::PostId))
                    .col(big_integer(Reactions::ActorId))
                    .col(string(Reactions::Kind))
                    .col(string(Reactions::ApId))
                    .col(timestamp_with_time_zone(Reactions::CreatedAt))
                    .foreign_key(&mut to_post("fk_reactions_post", Reactions::Table, Reactions::PostId))
                    .foreign_key(&mut to_actor("fk_reactions_actor", Reactions::Table, Reactions::ActorId))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_reactions_triple",
            Reactions::Table,
            &[Reactions::PostId, Reactions::ActorId, Reactions::Kind],
        )
        .await?;
        unique(manager, "ux_reactions_ap_id", Reactions::Table, &[Reactions::ApId]).await?;
        index(manager, "ix_reactions_actor", Reactions::Table, &[Reactions::ActorId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(big_pk_auto(Conversations::Id))
                    .col(big_integer(Conversations::ActorId))
                    .col(big_integer(Conversations::PostId))
                    .col(string(Conversations::Kind))
                    .col(big_integer(Conversations::ThreadRootId))
                    .col(timestamp_with_time_zone(Conversations::ReceivedAt))
                    .col(timestamp_with_time_zone_null(Conversations::AnsweredAt))
                    .col(big_integer_null(Conversations::AnswerPostId))
                    .foreign_key(&mut to_actor("fk_conversations_actor", Conversations::Table, Conversations::ActorId))
                    .foreign_key(&mut to_post("fk_conversations_post", Conversations::Table, Conversations::PostId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversations_answer_post")
                            .from(Conversations::Table, Conversations::AnswerPostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_conversations_pair",
            Conversations::Table,
            &[Conversations::ActorId, Conversations::PostId],
        )
        .await?;
        index(
            manager,
            "ix_conversations_state",
            Conversations::Table,
            &[Conversations::AnsweredAt, Conversations::ReceivedAt],
        )
        .await?;
        index(
            manager,
            "ix_conversations_actor_state",
            Conversations::Table,
            &[Conversations::ActorId, Conversations::AnsweredAt, Conversations::ReceivedAt],
        )
        .await?;
        index(manager, "ix_conversations_thread", Conversations::Table, &[Conversations::ThreadRootId]).await?;
        index(manager, "ix_conversations_post", Conversations::Table, &[Conversations::PostId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(big_pk_auto(Reports::Id))
                    .col(string_uniq(Reports::ApId))
                    .col(big_integer(Reports::ReporterActorId))
                    .col(big_integer_null(Reports::TargetActorId))
                    .col(text(Reports::Content))
                    .col(text(Reports::ObjectApIds))
                    .col(timestamp_with_time_zone(Reports::ReceivedAt))
                    .col(timestamp_with_time_zone_null(Reports::ResolvedAt))
                    .foreign_key(&mut to_actor("fk_reports_reporter", Reports::Table, Reports::ReporterActorId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reports_target")
                            .from(Reports::Table, Reports::TargetActorId)
                            .to(Actors::Table, Actors::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_reports_state", Reports::Table, &[Reports::ResolvedAt, Reports::ReceivedAt]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Blocks::Table)
                    .col(big_pk_auto(Blocks::Id))
                    .col(big_integer(Blocks::ActorId))
                    .col(big_integer(Blocks::TargetActorId))
                    .col(string(Blocks::ApId))
                    .col(timestamp_with_time_zone(Blocks::CreatedAt))
                    .foreign_key(&mut to_actor("fk_blocks_actor", Blocks::Table, Blocks::ActorId))
                    .foreign_key(&mut to_actor("fk_blocks_target", Blocks::Table, Blocks::TargetActorId))
                    .to_owned(),
            )
            .await?;
        unique(manager, "ux_blocks_pair", Blocks::Table, &[Blocks::ActorId, Blocks::TargetActorId]).await?;
        index(manager, "ix_blocks_target", Blocks::Table, &[Blocks::TargetActorId]).await?;
        index(manager, "ix_blocks_ap_id", Blocks::Table, &[Blocks::ApId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Blocks::Table.into_iden(),
            Reports::Table.into_iden(),
            Conversations::Table.into_iden(),
            Reactions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for name in ["ix_posts_in_reply_to_ap_id", "ix_posts_parent", "ix_posts_thread", "ix_posts_parent_fetch"] {
            manager.drop_index(Index::drop().name(name).table(Posts::Table).to_owned()).await?;
        }
        for column in [Actors::AlsoKnownAs, Actors::MovedToApId, Actors::DeletedAt] {
            manager.alter_table(Table::alter().table(Actors::Table).drop_column(column).to_owned()).await?;
        }
        for column in [
            Posts::Url,
            Posts::InReplyToPostId,
            Posts::ThreadRootId,
            Posts::Depth,
            Posts::LikesCount,
            Posts::AnnouncesCount,
            Posts::Attachments,
            Posts::ParentFetchAfter,
            Posts::ParentFetchAttempts,
        ] {
            manager.alter_table(Table::alter().table(Posts::Table).drop_column(column).to_owned()).await?;
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
    AlsoKnownAs,
    MovedToApId,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    InReplyToApId,
    PublishedAt,
    Url,
    InReplyToPostId,
    ThreadRootId,
    Depth,
    LikesCount,
    AnnouncesCount,
    Attachments,
    ParentFetchAfter,
    ParentFetchAttempts,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reactions {
    Table,
    Id,
    PostId,
    ActorId,
    Kind,
    ApId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversations {
    Table,
    Id,
    ActorId,
    PostId,
    Kind,
    ThreadRootId,
    ReceivedAt,
    AnsweredAt,
    AnswerPostId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reports {
    Table,
    Id,
    ApId,
    ReporterActorId,
    TargetActorId,
    Content,
    ObjectApIds,
    ReceivedAt,
    ResolvedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Blocks {
    Table,
    Id,
    ActorId,
    TargetActorId,
    ApId,
    CreatedAt,
}
