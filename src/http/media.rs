//! `GET /media/{file}`: uploaded images, served with their real type (checked from their
//! bytes at upload), `nosniff`, and a CSP that lets nothing run (FEDERATION.md §7).

use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{services::media, state::AppState};

pub(super) async fn serve(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found");
    let row = match media::servable(&state.db, &file).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found().into_response(),
        Err(e) => return e.into_response(),
    };
    // The stored type came from sniffing; the name's extension agrees with it (we chose both).
    let Some(media_type) = media::media_type_of_name(&row.file_name).filter(|t| *t == row.media_type) else {
        return not_found().into_response();
    };
    let path = media::media_dir(&state.config.data_dir).join(&row.file_name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, media_type),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(file = %row.file_name, error = %e, "media file missing");
            not_found().into_response()
        }
    }
}
