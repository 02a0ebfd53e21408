//! sea-orm entities, one file per table. These are storage shapes: never serialize them to
//! the API or the wire (see `federation/protocol/` and the services' view types).

pub mod activities;
pub mod actor_keys;
pub mod actors;
pub mod api_tokens;
pub mod blocks;
pub mod conversations;
pub mod deleted_objects;
pub mod deliveries;
pub mod follows;
pub mod hosts;
pub mod inbox_activities;
pub mod instance_settings;
pub mod media;
pub mod outbox_events;
pub mod post_mentions;
pub mod post_tags;
pub mod posts;
pub mod reactions;
pub mod reports;
pub mod users;
