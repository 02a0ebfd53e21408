//! The bearer-token extractor: a request without a valid token stops here with 401.

use axum::{
    Json,
    extract::FromRequestParts,
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{
    db::entities::{actors, api_tokens},
    error::{AppError, AppResult},
    services::tokens,
    state::AppState,
};

/// The token the request presented, verified.
pub struct ApiToken(pub api_tokens::Model);

impl ApiToken {
    /// 403 unless this token may act as `actor`.
    pub fn check_acts_as(&self, actor: &actors::Model) -> AppResult<()> {
        if tokens::may_act_as(&self.0, actor) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("this token cannot act as @{}", actor.username)))
        }
    }
}

fn unauthorized(message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"openhouse\"")],
        Json(json!({ "error": message })),
    )
        .into_response()
}

impl FromRequestParts<AppState> for ApiToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Err(unauthorized("an API token is required: Authorization: Bearer <token>"));
        };
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token,
            _ => return Err(unauthorized("the Authorization header must be: Bearer <token>")),
        };
        match tokens::authenticate(&state.db, token).await {
            Ok(row) => Ok(Self(row)),
            Err(e) if e.status() == StatusCode::UNAUTHORIZED => Err(unauthorized(&e.message)),
            Err(e) => Err(e.into_response()),
        }
    }
}
