//! `GET /.well-known/host-meta`: the XRD that points older clients at WebFinger.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use crate::{federation::protocol::webfinger::host_meta_xrd, state::AppState};

pub(super) async fn host_meta(State(state): State<AppState>) -> Response {
    let template = format!("{}/.well-known/webfinger?resource={{uri}}", state.urls.origin());
    (
        [(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8"), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        host_meta_xrd(&template),
    )
        .into_response()
}
