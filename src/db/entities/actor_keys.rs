//! `actor_keys`: private keys of local actors, kept apart from `actors` so that loading an
//! actor never loads its secret. Loaded only to sign.

use std::fmt;

use sea_orm::entity::prelude::*;

/// A local actor's RSA private key (PKCS#8 PEM).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "actor_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub actor_id: i64,
    #[sea_orm(column_type = "Text")]
    pub private_key_pem: String,
    pub created_at: DateTimeUtc,
}

/// Never prints the key.
impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorKey").field("actor_id", &self.actor_id).field("private_key_pem", &"<redacted>").finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::actors::Entity",
        from = "Column::ActorId",
        to = "super::actors::Column::Id",
        on_delete = "Cascade"
    )]
    Actor,
}

impl Related<super::actors::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Actor.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
