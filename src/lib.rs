//! Openhouse: a federated ActivityPub server for brand communities.
//!
//! ```text
//!   main.rs ─► cli ─► startup::Application ─► http::router ─┬─► http/pages       (HTML)
//!                                                            ├─► http/federation  (AP JSON)
//!                                                            └─► http/ops         (health)
//!   http ─► federation (wire types, fetch) ─► services (use cases) ─► db (entities, queries)
//!                                                     └─► domain (validated types)
//! ```
//!
//! Dependencies point one way only: `http` → `federation` → `services` → `db`/`domain`;
//! `net` (addresses and the allow-list) sits below them all. Nothing below `federation`
//! imports it. See `docs/ARCHITECTURE.md` for the glossary and the tour.

pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod federation;
pub mod http;
pub mod markdown;
pub mod net;
pub mod rate_limit;
pub mod secrets;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod urls;
pub mod workers;
