//! JSON error responses shared by the middleware.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// `{"error": ..., "error_description": ...}` with `status`.
pub fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = ErrorBody {
        error,
        error_description: description,
    };
    (status, Json(body)).into_response()
}
