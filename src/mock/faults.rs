//! What the scripted faults do that a plain response cannot: break the
//! exchange below HTTP, and echo a request's credentials back.
//!
//! A broken response is sent by the connection's task, not by hyper: the
//! handler passes a [`Broken`] to it, and it takes the socket back from hyper
//! (nothing has been written yet) and writes or drops exactly what the fault says.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http::Resp;
use super::{RecordedRequest, ScriptedResponse};

/// How a scripted response breaks the exchange at the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireFault {
    /// No answer: the connection is reset (TCP RST) once the request is read.
    Reset,
    /// The status line and headers promise the whole body (`Content-Length`);
    /// the first half of it follows, then the connection closes.
    Truncate,
    /// As `Truncate`, but the connection then stays open and silent until the
    /// client hangs up (at most 30 seconds).
    Stall,
}

/// Longest a stalled connection is held open.
const STALL_MAX: Duration = Duration::from_secs(30);

/// A response to break: the bytes that go out before the fault strikes.
#[derive(Debug)]
pub(crate) struct Broken {
    fault: WireFault,
    sent: Vec<u8>,
}

impl Broken {
    /// `resp` broken by `fault`: its head with the whole body's length, then
    /// half the body (nothing at all for a reset).
    pub fn new(fault: WireFault, resp: Resp) -> Broken {
        if fault == WireFault::Reset {
            return Broken {
                fault,
                sent: Vec::new(),
            };
        }
        let (parts, body) = resp.into_parts();
        let whole = body.collect();
        let status = parts.status;
        let mut sent = format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_str(),
            status.canonical_reason().unwrap_or("")
        )
        .into_bytes();
        for (name, value) in &parts.headers {
            sent.extend_from_slice(name.as_str().as_bytes());
            sent.extend_from_slice(b": ");
            sent.extend_from_slice(value.as_bytes());
            sent.extend_from_slice(b"\r\n");
        }
        sent.extend_from_slice(format!("content-length: {}\r\n\r\n", whole.len()).as_bytes());
        sent.extend_from_slice(&whole[..whole.len() / 2]);
        Broken { fault, sent }
    }
}

/// Sends `broken` on the raw connection and ends it as its fault says.
pub(crate) async fn send(mut stream: TcpStream, broken: Broken) {
    if broken.fault == WireFault::Reset {
        // Closing a socket with a zero linger sends RST instead of FIN.
        let _ = stream.set_zero_linger();
        return;
    }
    if stream.write_all(&broken.sent).await.is_err() || stream.flush().await.is_err() {
        return;
    }
    if broken.fault == WireFault::Stall {
        // Silent until the client hangs up: read (and drop) whatever it sends.
        let mut sink = [0u8; 1024];
        let until_eof = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
        let _ = tokio::time::timeout(STALL_MAX, until_eof).await;
    }
    let _ = stream.shutdown().await;
}

/// Fills `{authorization}` and `{body}` in the scripted body (in every string
/// of its JSON) with what the request carried, when the script asks to echo.
pub(crate) fn echo(script: &mut ScriptedResponse, request: &RecordedRequest) {
    if !script.echo {
        return;
    }
    let authorization = request
        .headers
        .get("authorization")
        .map_or("", String::as_str);
    let fill = |text: &mut String| {
        *text = text
            .replace("{authorization}", authorization)
            .replace("{body}", &request.body);
    };
    if let Some(body) = &mut script.body {
        fill(body);
    }
    if let Some(json) = &mut script.json {
        each_string(json, &fill);
    }
}

fn each_string(value: &mut Value, f: &dyn Fn(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| each_string(v, f)),
        Value::Object(fields) => fields.values_mut().for_each(|v| each_string(v, f)),
        _ => {}
    }
}
