//! Our entities as ActivityPub objects: newtypes over sea-orm models with converters whose
//! names say the direction (`into_json` goes out to the wire).

pub mod actor;
pub mod note;
pub mod remote_actor;
pub mod remote_note;
