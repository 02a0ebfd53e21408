//! NodeInfo: `/.well-known/nodeinfo` links to `/nodeinfo/2.1`, which says what runs here
//! and how many accounts and posts it has.

use axum::{extract::State, response::Response};
use serde_json::json;

use crate::{
    error::AppResult,
    federation::protocol::nodeinfo::{
        CONTENT_TYPE_2_1, NodeInfo, NodeInfoLink, NodeInfoLinks, SCHEMA_2_1, Services, Software, Usage, UsageUsers,
    },
    http::extract::json_with_type,
    services::instance,
    state::AppState,
};

pub(super) async fn links(State(state): State<AppState>) -> Response {
    let body = NodeInfoLinks {
        links: vec![NodeInfoLink { rel: SCHEMA_2_1.into(), href: format!("{}/nodeinfo/2.1", state.urls.origin()) }],
    };
    json_with_type(&body, "application/json", false)
}

pub(super) async fn nodeinfo(State(state): State<AppState>) -> AppResult<Response> {
    let usage = instance::usage(&state.db).await?;
    let name = instance::name(&state.db).await?;
    let body = NodeInfo {
        version: "2.1".into(),
        software: Software {
            name: "openhouse".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            // No public repository address yet; set it here once there is one.
            repository: None,
            homepage: None,
        },
        protocols: vec!["activitypub".into()],
        services: Services::default(),
        open_registrations: false,
        usage: Usage {
            // Every account is run by staff, so every account counts as active.
            users: UsageUsers { total: usage.accounts, active_month: usage.accounts, active_halfyear: usage.accounts },
            local_posts: usage.local_posts,
        },
        metadata: json!({ "nodeName": name }),
    };
    Ok(json_with_type(&body, CONTENT_TYPE_2_1, false))
}
