//! Validated domain types. A value of one of these types has passed its checks, so code that
//! receives one never checks again. No ActivityStreams words here: see `federation/`.

mod actor_kind;
mod email;
pub mod profile_field;
mod role;
mod username;
mod visibility;

pub use actor_kind::ActorKind;
pub use email::Email;
pub use profile_field::ProfileField;
pub use role::Role;
pub use username::Username;
pub use visibility::Visibility;
