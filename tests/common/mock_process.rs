//! The mock provider binary (`tokenwell mock`) as a separate process on a free
//! loopback port, with its admin API, killed on drop (also when an assertion
//! fails). A test binary built with the `cli` feature includes it with
//! `#[path = "common/mock_process.rs"] mod mock_process;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `tokenwell` binary of this build.
pub const BIN: &str = env!("CARGO_BIN_EXE_tokenwell");

/// A running `tokenwell mock`; `url` is its base URL (`http://127.0.0.1:<port>`).
pub struct MockProcess {
    child: Child,
    pub url: String,
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tokenwell mock --port 0` and reads the address it listens on from
/// its first line.
pub fn start_mock() -> MockProcess {
    let mut child = Command::new(BIN)
        .args(["mock", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mock starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("tokenwell mock listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    MockProcess { child, url }
}

impl MockProcess {
    /// One call of the admin API (`/__admin/...`), which must answer 200; its
    /// JSON body (`null` when it has none).
    pub fn admin(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        let json = reply.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(json).unwrap_or_default()
    }

    /// How many token requests the mock has answered.
    pub fn requests(&self) -> u64 {
        self.admin("GET", "/__admin/requests", "")["count"]
            .as_u64()
            .unwrap()
    }
}
