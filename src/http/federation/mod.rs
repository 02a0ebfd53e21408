//! Endpoints peers call: discovery (`/.well-known/*`, NodeInfo), actor documents with their
//! collections, posts (Notes, their `Create`, their replies), and the inboxes. Answers are
//! JSON in the media types peers expect.

mod actor;
mod collections;
mod host_meta;
mod inbox;
mod nodeinfo;
mod posts;
mod webfinger;

use axum::{
    Router,
    routing::{get, post},
};
use tower_http::limit::RequestBodyLimitLayer;

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
        .route("/users/{username}/posts/{id}", get(posts::note))
        .route("/users/{username}/posts/{id}/activity", get(posts::create_activity))
        .route("/users/{username}/posts/{id}/replies", get(posts::replies))
        .merge(
            Router::new()
                .route("/inbox", post(inbox::shared_inbox))
                .route("/users/{username}/inbox", post(inbox::actor_inbox))
                // I1: refused with 413 from Content-Length alone, before the body is read.
                .layer(RequestBodyLimitLayer::new(crate::http::MAX_BODY_BYTES)),
        )
}
