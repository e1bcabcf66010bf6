//! Ingestion's answers to bad input, as Sentry's: `{"detail": ...}` with the status SDKs
//! understand (and `Retry-After` / `X-Sentry-Rate-Limits` where they apply).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Malformed body, envelope or JSON (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing or malformed authentication, or an unknown key (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A known key that is disabled or belongs to another project (403).
    #[error("{0}")]
    Forbidden(String),
    /// Over a size limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// The body did not arrive in time (408).
    #[error("{0}")]
    Timeout(String),
    /// A `Content-Encoding` we cannot decode (415).
    #[error("unsupported content encoding {0:?}: use gzip, deflate, br or zstd")]
    UnsupportedEncoding(String),
    /// The project's events-per-minute limit is reached (429).
    #[error("the project's rate limit of {limit} events per minute is reached")]
    RateLimited { limit: i64, retry_after: u64 },
    /// Too many failed authentications from this address (429).
    #[error("too many failed authentications from this address; retry later")]
    TooManyFailures { retry_after: u64 },
    /// The writer is saturated or the database unavailable (429: SDKs drop 5xx answers).
    #[error("Faultline is overloaded; retry later")]
    Overloaded { retry_after: u64 },
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let status = match &self {
            IngestError::BadRequest(_) => StatusCode::BAD_REQUEST,
            IngestError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            IngestError::Forbidden(_) => StatusCode::FORBIDDEN,
            IngestError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            IngestError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::RateLimited { .. } | IngestError::Overloaded { .. } | IngestError::TooManyFailures { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
        };
        let detail = self.to_string();
        let mut res = (status, Json(serde_json::json!({ "detail": detail }))).into_response();
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&detail.chars().take(200).collect::<String>()) {
            h.insert("x-sentry-error", v);
        }
        let limit = match &self {
            // Events of this project: errors, messages and CSP reports.
            IngestError::RateLimited { retry_after, .. } => {
                Some(format!("{retry_after}:error;default;security:project"))
            }
            // Everything, from everyone, for a moment.
            IngestError::Overloaded { retry_after } | IngestError::TooManyFailures { retry_after } => {
                Some(format!("{retry_after}::organization"))
            }
            _ => None,
        };
        if let (
            Some(limit),
            IngestError::RateLimited { retry_after, .. }
            | IngestError::Overloaded { retry_after }
            | IngestError::TooManyFailures { retry_after },
        ) = (limit, &self)
        {
            h.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            if let Ok(v) = HeaderValue::from_str(&limit) {
                h.insert("x-sentry-rate-limits", v);
            }
        }
        res
    }
}
