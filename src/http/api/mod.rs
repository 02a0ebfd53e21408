//! The JSON API, for release pipelines and scripts: `Authorization: Bearer <token>` (tokens
//! from `openhouse token create`), JSON in and out, errors as `{"error": "…"}`.
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/posts` | publish (or schedule) → 201 `{id, url, …}`; JSON, or a form with images |
//! | PATCH | `/api/v1/posts/{id}` | edit the text / content warning → 200 |
//! | DELETE | `/api/v1/posts/{id}` | delete → 200 |
//! | GET | `/api/v1/posts/{id}/deliveries` | delivery progress of the post, per host |
//! | GET | `/api/v1/deliveries` | queue depth and failing hosts |
//! | GET | `/api/v1/conversations?state=unanswered\|answered\|all&actor=NAME&cursor=…` | the staff inbox |
//! | GET | `/api/v1/follow-requests?actor=NAME` | pending requests to a locked account |
//! | POST | `/api/v1/follow-requests/{id}/approve`, `…/reject` | decide one |
//! | POST | `/api/v1/reactions` | `{actor, object: <post URL>, kind: like\|boost}` → 201 (200 if given before) |
//! | DELETE | `/api/v1/reactions/{id}` | withdraw a like or boost (`Undo`) → 200 |

mod auth;
mod conversations;
mod follow_requests;
mod posts;
mod reactions;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, patch, post},
};

use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/posts", post(posts::create).layer(DefaultBodyLimit::max(posts::MAX_PUBLISH_BYTES)))
        .route("/api/v1/posts/{id}", patch(posts::update).delete(posts::remove))
        .route("/api/v1/posts/{id}/deliveries", get(posts::deliveries))
        .route("/api/v1/deliveries", get(posts::queue))
        .route("/api/v1/conversations", get(conversations::list))
        .route("/api/v1/reactions", post(reactions::create))
        .route("/api/v1/reactions/{id}", axum::routing::delete(reactions::remove))
        .route("/api/v1/follow-requests", get(follow_requests::list))
        .route("/api/v1/follow-requests/{id}/approve", post(follow_requests::approve))
        .route("/api/v1/follow-requests/{id}/reject", post(follow_requests::reject))
}
