//! Endpoints peers call: discovery (`/.well-known/*`, NodeInfo) and actor documents with
//! their collections. Answers are JSON in the media types peers expect.

mod actor;
mod collections;
mod host_meta;
mod nodeinfo;
mod webfinger;

use axum::{Router, routing::get};

use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger::webfinger))
        .route("/.well-known/host-meta", get(host_meta::host_meta))
        .route("/.well-known/nodeinfo", get(nodeinfo::links))
        .route("/nodeinfo/2.1", get(nodeinfo::nodeinfo))
        .route("/actor", get(actor::instance_actor))
        .route("/users/{username}", get(actor::actor))
        .route("/users/{username}/{collection}", get(collections::collection))
}
