//! `GET /static/{file}`: the stylesheet and default images, compiled into the binary.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

/// Every embedded file: name, media type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    ("site.css", "text/css; charset=utf-8", include_bytes!("../../../frontend/static/site.css")),
    ("avatar.png", "image/png", include_bytes!("../../../frontend/static/avatar.png")),
    ("instance-avatar.png", "image/png", include_bytes!("../../../frontend/static/instance-avatar.png")),
    ("header.png", "image/png", include_bytes!("../../../frontend/static/header.png")),
    ("favicon.png", "image/png", include_bytes!("../../../frontend/static/favicon.png")),
];

pub(super) async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *media_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
