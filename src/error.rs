//! The one error type of server functions, shown to the user as its `Display` text.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("You are not signed in.")]
    NotSignedIn,
    #[error("You do not have permission to do this.")]
    Forbidden,
    /// Also what a user gets for things that exist but that they may not see.
    #[error("Not found.")]
    NotFound,
    /// Bad input or a refused request; the message says why.
    #[error("{0}")]
    Invalid(String),
    #[error("Something went wrong on the server; its log has the details.")]
    Internal,
    /// The database is busy (a long write holds its lock): worth trying again shortly.
    #[error("The server is busy; try again in a moment.")]
    Busy,
    /// The request did not get through (network, encoding).
    #[error("{0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status a server function answers with this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::NotSignedIn => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) | AppError::Transport(_) => StatusCode::BAD_REQUEST,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Conflict(m) => AppError::Invalid(m),
            StoreError::NotFound => AppError::NotFound,
            StoreError::Invalid(m) => AppError::Invalid(m),
            other if other.is_busy() => {
                tracing::warn!("store busy: {other}");
                AppError::Busy
            }
            other => {
                tracing::error!("store: {other}");
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::auth::AuthError> for AppError {
    fn from(e: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError;
        match e {
            AuthError::Store(s) => s.into(),
            AuthError::Hash => {
                tracing::error!("password hashing failed");
                AppError::Internal
            }
            other => AppError::Invalid(other.to_string()),
        }
    }
}
