//! Our accounts like and boost posts: a staff member +1s a customer's feedback, the brand
//! boosts a tester's reply. The reaction is stored (so it can be withdrawn and is counted on
//! the post like a remote one) and recorded as an outbox event in the same transaction; the
//! federation wing sends the `Like`/`Announce` and, later, its `Undo`.

use sea_orm::DatabaseConnection;

use crate::{
    db::{
        entities::{actors, posts, reactions},
        queries::{self, reactions::Named},
    },
    error::{AppError, AppResult},
    services::{
        outbox::{self, OutboxEvent},
        reactions_received::{Reaction, add_reaction, remove_reaction},
    },
    urls::Urls,
};

/// A reaction given now, or the one given before (the same actor, post and kind).
#[derive(Clone, Debug)]
pub struct Given {
    pub reaction: reactions::Model,
    /// `false` when the actor had already reacted so: nothing changed, nothing is sent.
    pub created: bool,
}

/// `actor` (one of ours) likes or boosts `post` (ours or a stored remote note).
#[tracing::instrument(skip_all, fields(actor = %actor.username, post = post.id))]
pub async fn give(
    db: &DatabaseConnection,
    urls: &Urls,
    actor: &actors::Model,
    post: &posts::Model,
    reaction: Reaction,
) -> AppResult<Given> {
    if !actor.local {
        return Err(AppError::forbidden("only local accounts react from here"));
    }
    if post.deleted_at.is_some() {
        return Err(AppError::gone(format!("{} was deleted", post.ap_id)));
    }
    if post.published_at.is_none() {
        return Err(AppError::unprocessable(format!("{} is not published yet", post.ap_id)));
    }
    if reaction == Reaction::Announce && !post.visibility.is_world_readable() {
        return Err(AppError::unprocessable("only public and unlisted posts can be boosted"));
    }
    let txn = crate::db::begin_write(db).await?;
    let existing = queries::reactions::find_of_actor(&txn, actor.id, reaction, Named::Post(post.id)).await?;
    if let Some(reaction) = existing {
        return Ok(Given { reaction, created: false });
    }
    // Like Mastodon: a fragment of the actor's URL, on our host (I8 on the receiving side).
    let fragment = match reaction {
        Reaction::Like => "likes",
        Reaction::Announce => "announces",
    };
    let ap_id = format!("{}#{fragment}/{}", urls.actor(&actor.username), uuid::Uuid::now_v7().simple());
    let row = add_reaction(&txn, post.id, actor.id, reaction, &ap_id).await?;
    outbox::record(&txn, &OutboxEvent::ReactionGiven { reaction_id: row.id }).await?;
    txn.commit().await?;
    Ok(Given { reaction: row, created: true })
}

/// One of our reactions, by its row id, when `actor` gave it.
pub async fn find(db: &DatabaseConnection, id: i64) -> AppResult<Option<reactions::Model>> {
    Ok(queries::reactions::find(db, id).await?)
}

/// Withdraws reaction `id` given by `actor`; the peers hear an `Undo`.
#[tracing::instrument(skip_all, fields(actor = %actor.username, reaction = row.id))]
pub async fn withdraw(db: &DatabaseConnection, actor: &actors::Model, row: &reactions::Model) -> AppResult<()> {
    if row.actor_id != actor.id {
        return Err(AppError::not_found("no such reaction"));
    }
    let reaction = row.kind;
    let txn = crate::db::begin_write(db).await?;
    if !remove_reaction(&txn, row, reaction).await? {
        return Ok(());
    }
    let event = OutboxEvent::ReactionWithdrawn {
        actor_id: actor.id,
        post_id: row.post_id,
        reaction: row.kind.as_str().to_owned(),
        reaction_ap_id: row.ap_id.clone(),
    };
    outbox::record(&txn, &event).await?;
    txn.commit().await?;
    Ok(())
}
