//! The one error type for request paths: a small kind enum mapped to status codes in one
//! place. The public message is what the caller sees; the internal cause is logged, never
//! sent.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sea_orm::{DbErr, SqlErr};
use serde_json::json;

/// What went wrong, in terms a caller can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed or invalid (400).
    BadRequest,
    /// Missing or wrong credentials (401).
    Unauthorized,
    /// Authenticated but not allowed (403).
    Forbidden,
    /// No such thing, or not visible to the caller (404).
    NotFound,
    /// It conflicts with what exists, such as a taken username (409).
    Conflict,
    /// It existed and was deleted (410).
    Gone,
    /// The body is larger than this endpoint takes (413).
    TooLarge,
    /// The body's content type is not one this endpoint reads (415).
    UnsupportedMediaType,
    /// Well-formed but unacceptable (422).
    Unprocessable,
    /// Our own fault (500).
    Internal,
    /// A dependency such as the database is unavailable (503).
    Unavailable,
}

impl ErrorKind {
    /// The HTTP status for this kind.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Gone => StatusCode::GONE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error with a kind, a message safe to show, and an optional internal cause.
#[derive(Debug)]
pub struct AppError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// Shown to the caller.
    pub message: String,
    /// Logged, never shown.
    pub source: Option<anyhow::Error>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// Result alias for services and handlers.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An error of `kind` with a public message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// 409 with a message.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// 401 with a message.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    /// 403 with a message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// 410 with a message.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Gone, message)
    }

    /// 422 with a message.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unprocessable, message)
    }

    /// 500: the message shown is generic, the cause is kept for the log.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self { kind: ErrorKind::Internal, message: "internal error".into(), source: Some(cause.into()) }
    }

    /// The status code this error answers with.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// Logs the cause of server-side failures; client errors are not worth a warning.
    pub fn log(&self) {
        if self.kind == ErrorKind::Internal || self.kind == ErrorKind::Unavailable {
            match &self.source {
                Some(cause) => tracing::error!(error = %self.message, cause = format!("{cause:#}"), "request failed"),
                None => tracing::error!(error = %self.message, "request failed"),
            }
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self { kind: ErrorKind::Conflict, message: "that already exists".into(), source: Some(err.into()) }
            }
            _ => match err {
                DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self {
                    kind: ErrorKind::Unavailable,
                    message: "the database is unavailable".into(),
                    source: Some(err.into()),
                },
                other => Self::internal(other),
            },
        }
    }
}

/// JSON errors for the API and federation endpoints: `{"error": "…"}`.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        (self.status(), Json(json!({ "error": self.message }))).into_response()
    }
}
