//! HTTP plumbing: a response body of repeated frames, bounded request-body reading and
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

/// A response body: `data`, `times` times in a row, in frames of up to
/// [`FRAME`] bytes (cheap slices of one buffer, so a huge body costs little
/// memory). Framed with `Content-Length`, or with chunked encoding when
/// `chunked` (then only counting tells a client how long it is).
#[derive(Debug, Default)]
pub(crate) struct MockBody {
    /// `data` repeated as often as fits in a frame (at least once).
    block: Bytes,
    unit: usize,
    times_left: u64,
    chunked: bool,
}

/// Largest frame a [`MockBody`] sends.
const FRAME: usize = 64 * 1024;

impl MockBody {
    /// `data` once, with `Content-Length`.
    pub fn new(data: impl Into<Bytes>) -> Self {
        Self::repeated(data.into(), 1, false)
    }

    /// `data`, `times` times in a row.
    pub fn repeated(data: Bytes, times: u64, chunked: bool) -> Self {
        let unit = data.len();
        let per_frame = (FRAME / unit.max(1)).clamp(1, times.max(1) as usize);
        MockBody {
            block: data.repeat(per_frame).into(),
            unit,
            times_left: if unit == 0 { 0 } else { times },
            chunked,
        }
    }

    /// Total length still to send, in bytes.
    pub fn len(&self) -> u64 {
        self.unit as u64 * self.times_left
    }

    /// The whole body in one buffer (for the faults that cut it).
    pub fn collect(&self) -> Vec<u8> {
        self.block[..self.unit].repeat(self.times_left as usize)
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.times_left == 0 {
            return Poll::Ready(None);
        }
        let per_frame = (self.block.len() / self.unit) as u64;
        let n = per_frame.min(self.times_left);
        self.times_left -= n;
        let frame = self.block.slice(..self.unit * n as usize);
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.times_left == 0
    }

    fn size_hint(&self) -> SizeHint {
        if self.chunked {
            SizeHint::default()
        } else {
            SizeHint::with_exact(self.len())
        }
    }
}

pub(crate) type Resp = Response<MockBody>;

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
    let mut resp = Response::new(MockBody::new(body));
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
