//! HTTP plumbing: a one-chunk response body, bounded request-body reading and
//! the JSON responses the mock sends on its own behalf.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

/// Largest request body the mock reads.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// A response body sent in one piece, so hyper always frames it with `Content-Length`.
#[derive(Debug, Default)]
pub(crate) struct Full(Option<Bytes>);

impl Full {
    pub fn new(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        Full((!data.is_empty()).then_some(data))
    }
}

impl Body for Full {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |d| d.len() as u64))
    }
}

pub(crate) type Resp = Response<Full>;

/// Why a request body could not be read.
pub(crate) enum BodyError {
    TooLarge,
    Broken,
}

/// Reads the whole body, refusing more than `limit` bytes.
pub(crate) async fn read_body(mut body: Incoming, limit: usize) -> Result<Vec<u8>, BodyError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

/// The current time as an HTTP `Date` value. hyper's own `Date` is turned off
/// so that scripted responses carry one only if the script sets it.
pub(crate) fn date_value(now: SystemTime) -> HeaderValue {
    HeaderValue::from_str(&httpdate::fmt_http_date(now))
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_secs(now: SystemTime) -> u64 {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A response of the mock's own (not scripted): always dated.
pub(crate) fn own_response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
    now: SystemTime,
) -> Resp {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(header::DATE, date_value(now));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A dated JSON response.
pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Resp {
    own_response(
        status,
        "application/json",
        value.to_string(),
        SystemTime::now(),
    )
}

/// A dated OAuth 2.0 (RFC 6749 §5.2) error response.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Resp {
    json_response(
        status,
        &serde_json::json!({ "error": error, "error_description": description }),
    )
}

/// 405 with the `Allow` header the method list calls for.
pub(crate) fn method_not_allowed(allow: &'static str) -> Resp {
    let mut resp = oauth_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        &format!("method not allowed; use {allow}"),
    );
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// 413 for bodies over [`BODY_LIMIT`].
pub(crate) fn too_large() -> Resp {
    oauth_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        "request body exceeds 1 MiB",
    )
}

/// 400 for a body the client stopped sending halfway.
pub(crate) fn broken_body() -> Resp {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "request body could not be read",
    )
}

/// 404 for paths the mock does not serve.
pub(crate) fn not_found(path: &str) -> Resp {
    json_response(
        StatusCode::NOT_FOUND,
        &serde_json::json!({ "error": "not_found", "error_description": format!("no route for {path}") }),
    )
}
