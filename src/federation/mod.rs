//! The federation wing: the ONLY place that speaks ActivityStreams.
//!
//! - `protocol/`: pure serde wire types (what goes over HTTP).
//! - `objects/`: newtypes over our entities that convert to and from wire types.
//! - `fetch`: the SSRF-safe client every outbound request goes through.
//! - `signatures`: HTTP signatures, signing outgoing requests and checking incoming ones.
//! - `webfinger`: looking up remote handles.
//!
//! Inbound activities call `services/`; services never call back into here.

pub mod fetch;
pub mod objects;
pub mod protocol;
pub mod signatures;
pub mod webfinger;

/// The media type of ActivityPub documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";
/// The JSON-LD media type with the ActivityStreams profile, which peers may ask for instead.
pub const LD_JSON_AS: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
