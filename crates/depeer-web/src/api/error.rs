//! The API's error answer: `{"error": {"code", "message"}}` with the
//! status that fits. Messages are written here for the client; the
//! library's error (which may name paths or internals) goes to the log
//! only, never into the answer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use depeer_ingest::IngestError;
use depeer_ingest::read::ReadError;

/// An error answer.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    /// 400: the request is malformed (a parameter that does not parse).
    pub(crate) fn bad(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }

    /// 404: the dataset has nothing to answer with.
    pub(crate) fn no_data(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "no_data",
            message: message.into(),
        }
    }

    /// 500, logged with its cause; the client sees a fixed message.
    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "the server could not answer; see its log".into(),
        }
    }

    /// 503: the server is busy.
    pub(crate) fn busy() -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "the server is busy or was stopped; retry".into(),
        }
    }

    /// The fixed answer for a status produced outside the handlers
    /// (unknown route, wrong method, body too large, time limit).
    pub(crate) fn for_status(status: StatusCode) -> ApiError {
        let (code, message) = match status.as_u16() {
            404 => ("not_found", "no such resource"),
            405 => ("method_not_allowed", "method not allowed"),
            408 => (
                "timeout",
                "the request took longer than the server's time limit",
            ),
            413 => (
                "too_large",
                "the request body is larger than the server accepts",
            ),
            s if s >= 500 => ("internal", "the server could not answer"),
            _ => ("bad_request", "the request was not understood"),
        };
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut r = (self.status, super::json_body(&body)).into_response();
        r.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        r
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> ApiError {
        match &e {
            ReadError::NoDataset { hint, .. } => {
                ApiError::no_data(format!("the data directory holds no dataset; {hint}"))
            }
            ReadError::Missing { what, hint, .. } => ApiError::no_data(format!("{what}; {hint}")),
            ReadError::Series(s) => ApiError::bad(s.to_string()),
            _ => ApiError::internal(&e),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        match e {
            IngestError::OpenStore { .. } => {
                ApiError::no_data("the data directory holds no dataset; ingest data first")
            }
            IngestError::ReadSide(r) => ApiError::from(r),
            IngestError::Series(s) => ApiError::bad(s.to_string()),
            IngestError::NoMessages { .. } => {
                ApiError::no_data("no messages in the dataset; ingest mail first")
            }
            other => ApiError::internal(&other),
        }
    }
}
