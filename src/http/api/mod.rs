//! The JSON API, for release pipelines and scripts: `Authorization: Bearer <token>` (tokens
//! from `openhouse token create`), JSON in and out, errors as `{"error": "…"}`.
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/posts` | publish (or schedule) → 201 `{id, url, …}` |
//! | PATCH | `/api/v1/posts/{id}` | edit the text / content warning → 200 |
//! | DELETE | `/api/v1/posts/{id}` | delete → 200 |

mod auth;
mod posts;

use axum::{
    Router,
    routing::{patch, post},
};

use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/posts", post(posts::create))
        .route("/api/v1/posts/{id}", patch(posts::update).delete(posts::remove))
}
