//! Errors: [`ApiError`], the one error every handler returns (it becomes `{"error": message}`
//! with the right status), and [`WebError`], what setting up the server can fail with.

use crate::control::{ControlFailure, ControlFailureKind};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::PathBuf;
use wirewatch_store::StoreError;

/// An API error: the status and a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: a bad parameter or body (the message says which and why).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or a wrong one.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a cross-site or otherwise refused request.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 422: the capture refused the request (libpcap's message).
    #[error("{0}")]
    Unprocessable(String),
    /// 503: the service needed is not there (no database, no capture control).
    #[error("{0}")]
    Unavailable(String),
    /// 500: something failed inside the server.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// 503 for a request that needs the database when none is configured.
    pub fn no_store() -> ApiError {
        ApiError::Unavailable(
            "no database: start wirewatch with --db FILE to record history".to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wirewatch\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::BadQuery(message) => ApiError::BadRequest(message),
            StoreError::Timeout { .. } => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ControlFailure> for ApiError {
    fn from(f: ControlFailure) -> ApiError {
        match f.kind {
            ControlFailureKind::Refused => ApiError::Unprocessable(f.message),
            ControlFailureKind::Conflict => ApiError::Conflict(f.message),
            ControlFailureKind::Unavailable => ApiError::Unavailable(f.message),
            ControlFailureKind::Invalid => ApiError::BadRequest(f.message),
            ControlFailureKind::NotFound => ApiError::NotFound(f.message),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::Internal(format!("a background task failed: {e}"))
    }
}

/// What can go wrong setting up or running the web server.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A non-loopback address without a token.
    #[error(
        "refusing to listen on {addr} without a token: anyone who can reach that address could \
         watch your traffic and control the capture. Set `[web] token = \"...\"` in the config \
         file or pass --token-file FILE (`wirewatch token` prints a new random token), or \
         listen on a loopback address such as 127.0.0.1:{port}",
        port = addr.port()
    )]
    NoCredentials {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The configured token is unusable.
    #[error("the web token is unusable: {reason}; `wirewatch token` prints a good one")]
    BadToken {
        /// Why.
        reason: String,
    },
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why, and what to do.
        reason: String,
    },
    /// A TLS certificate or key file is unusable.
    #[error("TLS: {}: {message}", path.display())]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The server's runtime or thread could not be started, or it failed while running.
    #[error("web server: {0}")]
    Server(String),
    /// The system random number generator failed.
    #[error("cannot read random bytes from the system: {0}")]
    Random(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_mappings() {
        assert_eq!(
            ApiError::from(StoreError::BadQuery("x".into())),
            ApiError::BadRequest("x".into())
        );
        assert_eq!(
            ApiError::from(ControlFailure::refused("bad")).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            ApiError::from(ControlFailure::conflict("no")).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(ControlFailure::unavailable("no")).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let r = ApiError::Unauthorized("token".into()).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
