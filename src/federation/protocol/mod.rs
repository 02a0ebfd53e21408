//! Wire types: serde structs shaped exactly as peers expect them. No database, no logic
//! beyond (de)serialization. Field names follow ActivityStreams and Mastodon's extensions.

pub mod activity;
pub mod actor;
pub mod collection;
pub mod context;
pub mod lenient;
pub mod nodeinfo;
pub mod note;
pub mod webfinger;
