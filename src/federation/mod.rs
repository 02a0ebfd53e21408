//! The federation wing: the ONLY place that speaks ActivityStreams.
//!
//! - `protocol/`: pure serde wire types (what goes over HTTP).
//! - `objects/`: newtypes over our entities that convert to and from wire types.
//! - `fetch`: the SSRF-safe client every outbound request goes through; `identity`: a
//!   fetched document is accepted only under its own id (F2).
//! - `webfinger`: looking up remote handles.
//! - `resolve`: remote actors, cached and refreshed (`actor_cache`: the in-memory copy);
//!   `mentions`: the handles a post names; `post_by_url`: the post a reply answers or a
//!   reaction is about, named by its URL.
//! - `inbox`: receiving activities (all checks, durable insert) and the inbox worker;
//!   `inbox::writer`: the group commit of inbox inserts (`actor_writer`: of fetched actors); `activities/`: one file per type.
//! - `remote_notes`: remote notes coming in: fetching and storing a note, walking its
//!   missing ancestors on a budget, and the worker that continues long chains.
//! - `signatures/`: HTTP signatures (draft-cavage and RFC 9421).
//! - `delivery/`: the durable outbox: events → activities → leased, retried deliveries.
//! - `retention`: the background task that purges old processed inbox rows and
//!   remembered `Delete`s (I12, I13).
//! - `context`: the state the wing runs on.
//!
//! Inbound activities call `services/`; services never call back into here.

pub mod activities;
pub mod actor_cache;
pub mod actor_writer;
pub mod context;
pub mod delivery;
pub mod fetch;
pub mod identity;
pub mod inbox;
pub mod key_refetch;
pub mod mentions;
pub mod objects;
pub mod post_by_url;
pub mod protocol;
pub mod remote_notes;
pub mod resolve;
pub mod retention;
pub mod signatures;
pub mod webfinger;

/// The media type of ActivityPub documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";
/// The JSON-LD media type with the ActivityStreams profile, which peers may ask for instead.
pub const LD_JSON_AS: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
