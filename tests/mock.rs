//! The mock provider through real sockets, with a minimal raw HTTP/1.1 client
//! so that malformed requests can be sent too.
#![cfg(feature = "mock")]

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::net::TcpStream;

use tokenwell::mock::*;

const DELIVERECT: &str = "/deliverect/oauth/token";
const BRINGG: &str = "/bringg/oauth/token";
const PASSPORT: &str = "/passport/api/oauth/token";
const DELIVEROO: &str = "/deliveroo/oauth2/token";
const JSON: (&str, &str) = ("Content-Type", "application/json");
const ACCEPT_JSON: (&str, &str) = ("Accept", "application/json");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const BOUNDARY: &str = "tokenwell-8f3a2c1e9b7d4f60";

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the reply.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    send_raw(addr, &raw).await
}

async fn send_raw(addr: SocketAddr, raw: &[u8]) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("connect");
    write_all(&stream, raw).await;
    parse_reply(&read_to_end(&stream).await)
}

// Readiness-based I/O keeps the tests free of tokio's `io-util` feature.
async fn write_all(stream: &TcpStream, mut data: &[u8]) {
    while !data.is_empty() {
        stream.writable().await.expect("writable");
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("write: {e}"),
        }
    }
}

async fn read_to_end(stream: &TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        stream.readable().await.expect("readable");
        match stream.try_read(&mut chunk) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&raw[split + 4..]).into_owned(),
    }
}

async fn post_json(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
    send(addr, "POST", path, headers, body.to_string().as_bytes()).await
}

fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

async fn post_bringg(addr: SocketAddr, fields: &[(&str, &str)]) -> Reply {
    let content_type = multipart_type();
    send(
        addr,
        "POST",
        BRINGG,
        &[("Content-Type", &content_type)],
        multipart(fields).as_bytes(),
    )
    .await
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

async fn post_deliveroo(
    addr: SocketAddr,
    auth: Option<&str>,
    content_type: &str,
    body: &str,
) -> Reply {
    let mut headers = vec![("Content-Type", content_type)];
    if let Some(auth) = auth {
        headers.push(("Authorization", auth));
    }
    send(addr, "POST", DELIVEROO, &headers, body.as_bytes()).await
}

fn deliverect_body() -> Value {
    json!({
        "client_id": "id-1",
        "client_secret": "s3cret",
        "audience": "https://api.staging.deliverect.com",
        "grant_type": "token",
    })
}

fn passport_body() -> Value {
    json!({ "grant_type": "client_credentials", "client_id": "7", "client_secret": "s3cret" })
}

async fn start() -> MockServer {
    start_with(MockOptions::default()).await
}

async fn start_with(opts: MockOptions) -> MockServer {
    MockServer::start(opts).await.expect("mock starts")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Decodes the claims of a JWT-shaped token, checking its shape.
fn jwt_claims(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({ "alg": "none", "typ": "JWT" }));
    assert_eq!(parts[2], "mock-signature");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

/// Asserts a real, current `Date` header (the mock's own responses carry one).
fn assert_dated(reply: &Reply) {
    let date = reply.header("date").expect("Date header");
    let date = httpdate::parse_http_date(date).expect("HTTP date");
    let age = SystemTime::now().duration_since(date).unwrap_or_default();
    assert!(age < Duration::from_secs(5), "stale Date {date:?}");
}

// --- Deliverect ---

#[tokio::test]
async fn deliverect_accepts_both_documented_grant_types() {
    let mock = start().await;
    for grant_type in ["token", "client_credentials"] {
        let mut body = deliverect_body();
        body["grant_type"] = json!(grant_type);
        let headers = [("Content-Type", "application/json; charset=utf-8")];
        let reply = post_json(mock.addr(), DELIVERECT, &headers, &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_dated(&reply);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let token = reply.json();
        assert!(token["access_token"]
            .as_str()
            .unwrap()
            .starts_with("mock_deliverect_"));
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["expires_in"], 86_400);
        assert_eq!(token["scope"], "genericPOS");
        let expires_at = token["expires_at"].as_u64().unwrap();
        assert!(expires_at.abs_diff(unix_now() + 86_400) <= 2);
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn deliverect_rejects_other_wire_formats() {
    let mock = start().await;
    let addr = mock.addr();
    let form = b"client_id=id-1&client_secret=s3cret&audience=x&grant_type=token";
    let reply = send(addr, "POST", DELIVERECT, &[FORM], form).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    assert!(reply.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("application/json"));

    let reply = send(
        addr,
        "POST",
        DELIVERECT,
        &[],
        deliverect_body().to_string().as_bytes(),
    )
    .await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );

    let mut body = deliverect_body();
    body.as_object_mut().unwrap().remove("audience");
    let reply = post_json(addr, DELIVERECT, &[JSON], &body).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    assert!(reply.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("audience"));

    for grant_type in [json!("password"), json!(null), json!(1)] {
        let mut body = deliverect_body();
        body["grant_type"] = grant_type;
        let reply = post_json(addr, DELIVERECT, &[JSON], &body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "unsupported_grant_type".into())
        );
    }
    let mut body = deliverect_body();
    body.as_object_mut().unwrap().remove("grant_type");
    let reply = post_json(addr, DELIVERECT, &[JSON], &body).await;
    assert_eq!(reply.error(), "unsupported_grant_type");

    let mut body = deliverect_body();
    body["client_secret"] = json!("");
    let reply = post_json(addr, DELIVERECT, &[JSON], &body).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );

    let mut body = deliverect_body();
    body["client_id"] = json!(42);
    let reply = post_json(addr, DELIVERECT, &[JSON], &body).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );

    for bad in ["{not json", "[1,2]", ""] {
        let reply = send(addr, "POST", DELIVERECT, &[JSON], bad.as_bytes()).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "invalid_request".into()),
            "{bad}"
        );
        assert_dated(&reply);
    }
    assert_eq!(
        mock.request_count(),
        12,
        "rejected requests are recorded too"
    );
    mock.shutdown().await;
}

// --- Bringg ---

#[tokio::test]
async fn bringg_accepts_multipart_with_and_without_ttl() {
    let mock = start().await;
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_id", "id-1"),
        ("client_secret", "s3cret"),
    ];
    let reply = post_bringg(mock.addr(), &fields).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let token = reply.json();
    assert!(token["access_token"]
        .as_str()
        .unwrap()
        .starts_with("mock_bringg_"));
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 1800);
    assert!(token["created_at"].as_u64().unwrap().abs_diff(unix_now()) <= 2);

    let with_ttl = [fields.as_slice(), &[("ttl", "120")]].concat();
    let reply = post_bringg(mock.addr(), &with_ttl).await;
    assert_eq!(reply.json()["expires_in"], 120);

    // The exact body shape the crate's client sends (lowercase part headers, quoted boundary).
    let body = multipart(&fields).replace("Content-Disposition", "content-disposition");
    let content_type = format!("multipart/form-data; boundary=\"{BOUNDARY}\"");
    let reply = send(
        mock.addr(),
        "POST",
        BRINGG,
        &[("content-type", &content_type)],
        body.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    mock.shutdown().await;
}

#[tokio::test]
async fn bringg_rejects_other_wire_formats() {
    let mock = start().await;
    let addr = mock.addr();
    let good = [
        ("grant_type", "client_credentials"),
        ("client_id", "id-1"),
        ("client_secret", "s3cret"),
    ];
    let json_body = json!({ "grant_type": "client_credentials", "client_id": "id-1", "client_secret": "s3cret" });
    let reply = post_json(addr, BRINGG, &[JSON], &json_body).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    let reply = send(
        addr,
        "POST",
        BRINGG,
        &[FORM],
        b"grant_type=client_credentials&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );

    let reply = post_bringg(addr, &[("grant_type", "password"), good[1], good[2]]).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "unsupported_grant_type".into())
    );
    let reply = post_bringg(addr, &good[1..]).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "unsupported_grant_type".into())
    );
    let reply = post_bringg(addr, &[good[0], good[1]]).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    for ttl in ["0", "-5", "abc", "+5", ""] {
        let reply = post_bringg(addr, &[good[0], good[1], good[2], ("ttl", ttl)]).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "invalid_request".into()),
            "ttl {ttl:?}"
        );
    }

    // Broken multipart: no boundary parameter, no closing boundary, wrong boundary.
    let body = multipart(&good);
    let reply = send(
        addr,
        "POST",
        BRINGG,
        &[("Content-Type", "multipart/form-data")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 400);
    let truncated = &body[..body.len() - 20];
    let reply = send(
        addr,
        "POST",
        BRINGG,
        &[("Content-Type", &multipart_type())],
        truncated.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 400);
    let reply = send(
        addr,
        "POST",
        BRINGG,
        &[("Content-Type", "multipart/form-data; boundary=other")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, 400);
    mock.shutdown().await;
}

// --- Passport ---

#[tokio::test]
async fn passport_accepts_json_with_accept_and_issues_a_jwt() {
    let mock = start().await;
    let reply = post_json(
        mock.addr(),
        PASSPORT,
        &[JSON, ACCEPT_JSON],
        &passport_body(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let token = reply.json();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let access = token["access_token"].as_str().unwrap();
    assert!(!access.contains("s3cret"));
    let claims = jwt_claims(access);
    assert_eq!(claims["sub"], "7");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    assert!(claims["jti"].is_string());

    // Accept lists are fine as long as JSON is explicitly among them.
    let accept = ("Accept", "text/plain, application/json;q=0.9");
    let reply = post_json(mock.addr(), PASSPORT, &[JSON, accept], &passport_body()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    mock.shutdown().await;
}

#[tokio::test]
async fn passport_rejects_other_wire_formats() {
    let mock = start().await;
    let addr = mock.addr();
    let reply = post_json(addr, PASSPORT, &[JSON], &passport_body()).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    assert!(reply.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("Accept"));
    let reply = post_json(addr, PASSPORT, &[JSON, ("Accept", "*/*")], &passport_body()).await;
    assert_eq!(reply.status, 400);
    let form = b"grant_type=client_credentials&client_id=7&client_secret=s3cret";
    let reply = send(addr, "POST", PASSPORT, &[FORM, ACCEPT_JSON], form).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    let mut body = passport_body();
    body["grant_type"] = json!("token");
    let reply = post_json(addr, PASSPORT, &[JSON, ACCEPT_JSON], &body).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "unsupported_grant_type".into())
    );
    let mut body = passport_body();
    body.as_object_mut().unwrap().remove("client_secret");
    let reply = post_json(addr, PASSPORT, &[JSON, ACCEPT_JSON], &body).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    mock.shutdown().await;
}

// --- Deliveroo ---

#[tokio::test]
async fn deliveroo_accepts_basic_auth_and_bare_grant_type() {
    let mock = start().await;
    let auth = basic("roo-id", "s3cret");
    let reply = post_deliveroo(
        mock.addr(),
        Some(&auth),
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let token = reply.json();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 300);
    let access = token["access_token"].as_str().unwrap();
    assert!(!access.contains("s3cret"));
    let claims = jwt_claims(access);
    assert_eq!(claims["sub"], "roo-id");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn deliveroo_rejects_other_wire_formats() {
    let mock = start().await;
    let addr = mock.addr();
    let auth = basic("roo-id", "s3cret");
    let form = "application/x-www-form-urlencoded";
    let grant = "grant_type=client_credentials";

    // Client authentication problems: 401 invalid_client.
    let creds_in_body = "grant_type=client_credentials&client_id=roo-id&client_secret=s3cret";
    for (auth, body) in [
        (None, grant),
        (None, creds_in_body),
        (Some("Bearer abc".to_string()), grant),
        (Some("Basic !!!".to_string()), grant),
        (
            Some(format!("Basic {}", STANDARD.encode("no-colon"))),
            grant,
        ),
        (Some(basic("roo-id", "")), grant),
        (Some(basic("", "s3cret")), grant),
    ] {
        let reply = post_deliveroo(addr, auth.as_deref(), form, body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (401, "invalid_client".into()),
            "{auth:?} {body}"
        );
    }

    // With Basic auth, anything but the bare grant_type in the body: 400.
    for body in [
        "grant_type=client_credentials&client_secret=s3cret",
        "grant_type=client_credentials&client_id=roo-id",
        "grant_type=client_credentials&scope=orders",
        "grant_type=client_credentials&grant_type=client_credentials",
    ] {
        let reply = post_deliveroo(addr, Some(&auth), form, body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "invalid_request".into()),
            "{body}"
        );
    }
    let reply = post_deliveroo(
        addr,
        Some(&auth),
        "application/json",
        r#"{"grant_type":"client_credentials"}"#,
    )
    .await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    for body in ["grant_type=password", ""] {
        let reply = post_deliveroo(addr, Some(&auth), form, body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "unsupported_grant_type".into()),
            "{body}"
        );
    }
    mock.shutdown().await;
}

// --- Custom, routing, methods, limits ---

#[tokio::test]
async fn custom_accepts_anything_and_records_it() {
    let mock = start().await;
    let reply = send(
        mock.addr(),
        "POST",
        "/custom/a/b/token?tenant=7",
        &[("X-Thing", "1"), ("x-thing", "2")],
        b"\xffraw",
    )
    .await;
    assert_eq!(reply.status, 200);
    let token = reply.json();
    assert!(token["access_token"]
        .as_str()
        .unwrap()
        .starts_with("mock_custom_"));
    assert_eq!(token["expires_in"], 3600);
    let recorded = &mock.requests()[0];
    assert_eq!(recorded.method, "POST");
    assert_eq!(recorded.path, "/custom/a/b/token");
    assert_eq!(recorded.query.as_deref(), Some("tenant=7"));
    assert_eq!(recorded.headers["x-thing"], "1, 2");
    assert_eq!(recorded.headers["content-length"], "4");
    assert_eq!(recorded.body, "\u{fffd}raw");
    mock.shutdown().await;
}

#[tokio::test]
async fn tokens_are_unique_and_lifetime_can_be_overridden() {
    let mock = start_with(MockOptions {
        lifetime_secs: Some(42),
        ..MockOptions::default()
    })
    .await;
    let a = send(mock.addr(), "POST", "/custom/token", &[], b"")
        .await
        .json();
    let b = send(mock.addr(), "POST", "/custom/token", &[], b"")
        .await
        .json();
    assert_ne!(a["access_token"], b["access_token"]);
    assert_eq!(a["expires_in"], 42);
    // Bringg's own ttl still wins.
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_id", "a"),
        ("client_secret", "b"),
        ("ttl", "99"),
    ];
    assert_eq!(
        post_bringg(mock.addr(), &fields).await.json()["expires_in"],
        99
    );
    mock.set_lifetime_secs(None);
    let c = send(mock.addr(), "POST", "/custom/token", &[], b"")
        .await
        .json();
    assert_eq!(c["expires_in"], 3600);
    mock.shutdown().await;
}

#[tokio::test]
async fn non_post_is_405_and_still_recorded() {
    let mock = start().await;
    for path in [DELIVERECT, BRINGG, PASSPORT, DELIVEROO, "/custom/x"] {
        let reply = send(mock.addr(), "GET", path, &[], b"").await;
        assert_eq!(reply.status, 405, "{path}");
        assert_eq!(reply.header("allow"), Some("POST"));
        assert_eq!(reply.error(), "invalid_request");
    }
    assert_eq!(mock.request_count(), 5);
    assert_eq!(mock.requests()[0].method, "GET");
    mock.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_oversized_bodies_and_garbage_get_errors() {
    let mock = start().await;
    let reply = send(mock.addr(), "POST", "/nope", &[], b"").await;
    assert_eq!(reply.status, 404);
    assert_eq!(mock.request_count(), 0, "only token routes are recorded");

    // Announced oversize body: refused before reading it.
    let raw = format!(
        "POST /custom/t HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        1024 * 1024 + 1
    );
    let reply = send_raw(mock.addr(), raw.as_bytes()).await;
    assert_eq!(reply.status, 413);
    assert_eq!(mock.request_count(), 1);
    assert_eq!(mock.requests()[0].body, "");

    // Exactly at the limit is fine.
    let body = vec![b'a'; 1024 * 1024];
    let reply = send(mock.addr(), "POST", "/custom/t", &[], &body).await;
    assert_eq!(reply.status, 200);

    let reply = send_raw(mock.addr(), b"NOT HTTP AT ALL\r\n\r\n").await;
    assert_eq!(reply.status, 400);
    mock.shutdown().await;
}

#[tokio::test]
async fn configured_credentials_are_the_only_ones_accepted() {
    let mock = start_with(MockOptions {
        credentials: Some(("good-id".into(), "good-secret".into())),
        ..MockOptions::default()
    })
    .await;
    let addr = mock.addr();
    let form = "application/x-www-form-urlencoded";
    let grant = "grant_type=client_credentials";
    let reply = post_deliveroo(addr, Some(&basic("good-id", "bad")), form, grant).await;
    assert_eq!(
        (reply.status, reply.error()),
        (401, "invalid_client".into())
    );
    let reply = post_deliveroo(addr, Some(&basic("good-id", "good-secret")), form, grant).await;
    assert_eq!(reply.status, 200);

    let mut body = deliverect_body();
    body["client_id"] = json!("good-id");
    let reply = post_json(addr, DELIVERECT, &[JSON], &body).await;
    assert_eq!(
        (reply.status, reply.error()),
        (401, "invalid_client".into())
    );
    body["client_secret"] = json!("good-secret");
    assert_eq!(
        post_json(addr, DELIVERECT, &[JSON], &body).await.status,
        200
    );

    let mut body = passport_body();
    body["client_id"] = json!("good-id");
    let reply = post_json(addr, PASSPORT, &[JSON, ACCEPT_JSON], &body).await;
    assert_eq!(reply.status, 401);

    let fields = [
        ("grant_type", "client_credentials"),
        ("client_id", "other"),
        ("client_secret", "good-secret"),
    ];
    assert_eq!(post_bringg(addr, &fields).await.status, 401);
    mock.shutdown().await;
}

// --- Scripting ---

#[tokio::test]
async fn scripted_responses_go_out_in_order_with_exact_headers_and_no_stray_date() {
    let mock = start().await;
    let addr = mock.addr();
    mock.script(vec![
        ScriptedResponse::json(
            200,
            json!({ "access_token": "one", "expires_at": 1767226600 }),
        )
        .with_header("Date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ScriptedResponse::text(404, "<html>Not Found</html>")
            .with_header("content-type", "text/html"),
        ScriptedResponse {
            status: 429,
            headers: [("Retry-After".to_string(), "7".to_string())].into(),
            ..ScriptedResponse::default()
        },
    ]);

    // A rejected request leaves the queue alone.
    let reply = post_deliveroo(
        addr,
        None,
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(reply.status, 401);

    let first = send(addr, "POST", "/custom/token", &[], b"").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("date"), Some("Thu, 01 Jan 2026 00:00:00 GMT"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(
        first.json(),
        json!({ "access_token": "one", "expires_at": 1767226600 })
    );
    // `connection: close` echoes the test client's own request header.
    let names: Vec<&str> = first.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["date", "content-type", "connection", "content-length"]
    );

    let second = post_json(addr, PASSPORT, &[JSON, ACCEPT_JSON], &passport_body()).await;
    assert_eq!(second.status, 404);
    assert_eq!(second.body, "<html>Not Found</html>");
    assert_eq!(second.header("content-type"), Some("text/html"));
    assert_eq!(second.header("date"), None, "no Date unless scripted");

    let third = send(addr, "POST", "/custom/token", &[], b"").await;
    assert_eq!(third.status, 429);
    assert_eq!(third.header("retry-after"), Some("7"));
    assert_eq!(third.header("date"), None);
    assert_eq!(third.header("content-type"), None);
    assert_eq!(third.body, "");

    // Queue empty again: the default success, dated.
    let fourth = send(addr, "POST", "/custom/token", &[], b"").await;
    assert_eq!(fourth.status, 200);
    assert_dated(&fourth);
    assert_eq!(mock.request_count(), 5);
    mock.shutdown().await;
}

#[tokio::test]
async fn scripted_delay_and_unsendable_scripts() {
    let mock = start().await;
    mock.script(vec![
        ScriptedResponse::text(200, "late").with_delay_ms(300),
        ScriptedResponse::text(200, "x").with_header("bad header", "v"),
        ScriptedResponse::text(99, "x"),
    ]);
    let started = Instant::now();
    let reply = send(mock.addr(), "POST", "/custom/t", &[], b"").await;
    assert_eq!(reply.body, "late");
    assert!(started.elapsed() >= Duration::from_millis(300));
    for _ in 0..2 {
        let reply = send(mock.addr(), "POST", "/custom/t", &[], b"").await;
        assert_eq!((reply.status, reply.error()), (500, "server_error".into()));
    }
    mock.shutdown().await;
}

/// The head of a raw reply, and its body bytes (unframed).
fn split_reply(raw: &[u8]) -> (Reply, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    (parse_reply(&raw[..end]), raw[end..].to_vec())
}

#[tokio::test]
async fn repeated_chunked_and_echoed_bodies_go_out_as_scripted() {
    let mock = start().await;
    let repeated = |chunked| ScriptedResponse {
        repeat: 3,
        chunked,
        ..ScriptedResponse::text(200, "ab")
    };
    let echo = ScriptedResponse {
        echo: true,
        ..ScriptedResponse::json(
            401,
            json!({ "error": "invalid_client", "seen": ["{authorization}", "{body}"] }),
        )
    };
    mock.script(vec![
        repeated(false),
        repeated(true),
        echo,
        ScriptedResponse {
            repeat: 0,
            ..ScriptedResponse::text(200, "ab")
        },
    ]);

    let plain = send(mock.addr(), "POST", "/custom/t", &[], b"").await;
    assert_eq!(
        (plain.body.as_str(), plain.header("content-length")),
        ("ababab", Some("6"))
    );

    let chunked = send(mock.addr(), "POST", "/custom/t", &[], b"").await;
    assert_eq!(chunked.header("content-length"), None);
    assert_eq!(chunked.header("transfer-encoding"), Some("chunked"));
    assert_eq!(chunked.body, "6\r\nababab\r\n0\r\n\r\n");

    let echoed = send(
        mock.addr(),
        "POST",
        "/custom/t",
        &[("Authorization", "Basic c2VjcmV0")],
        b"a=\"b\"",
    )
    .await;
    assert_eq!(
        (echoed.status, echoed.json()),
        (
            401,
            json!({ "error": "invalid_client", "seen": ["Basic c2VjcmV0", "a=\"b\""] })
        )
    );

    let refused = send(mock.addr(), "POST", "/custom/t", &[], b"").await;
    assert_eq!(
        (refused.status, refused.error()),
        (500, "server_error".into())
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn wire_faults_break_the_exchange_as_named() {
    let mock = start().await;
    let body = json!({ "access_token": "t", "expires_in": 60 });
    let whole = body.to_string().len();
    mock.script(vec![
        ScriptedResponse::json(200, body.clone()).with_fault(WireFault::Truncate),
        ScriptedResponse::json(200, body.clone()).with_fault(WireFault::Stall),
        ScriptedResponse::json(200, body).with_fault(WireFault::Reset),
    ]);
    let request = format!(
        "POST /custom/t HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
        mock.addr()
    );

    // Truncate: the whole length promised, half sent, then the connection closes.
    let stream = TcpStream::connect(mock.addr()).await.unwrap();
    write_all(&stream, request.as_bytes()).await;
    let (head, sent) = split_reply(&read_to_end(&stream).await);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(whole.to_string().as_str())
    );
    assert_eq!(sent.len(), whole / 2);

    // Stall: the same half, then nothing while the client waits.
    let stream = TcpStream::connect(mock.addr()).await.unwrap();
    write_all(&stream, request.as_bytes()).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let waited = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            stream.readable().await.unwrap();
            if let Ok(n) = stream.try_read(&mut buf) {
                assert!(n > 0, "a stalled connection must stay open");
                got.extend_from_slice(&buf[..n]);
            }
        }
    })
    .await;
    assert!(waited.is_err(), "still open after 300 ms");
    assert_eq!(split_reply(&got).1.len(), whole / 2);
    drop(stream);

    // Reset: no reply at all, and an RST rather than an orderly close.
    let stream = TcpStream::connect(mock.addr()).await.unwrap();
    write_all(&stream, request.as_bytes()).await;
    let read = loop {
        stream.readable().await.unwrap();
        match stream.try_read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            other => break other,
        }
    };
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset)
    );
    assert_eq!(mock.request_count(), 3);
    mock.shutdown().await;
}

#[test]
fn scripts_deserialize_with_defaults() {
    let parsed: ScriptedResponse = serde_json::from_value(json!({ "json": { "a": 1 } })).unwrap();
    assert_eq!(parsed, ScriptedResponse::json(200, json!({ "a": 1 })));
    assert!(serde_json::from_value::<ScriptedResponse>(json!({ "stauts": 200 })).is_err());
}

// --- Faults ---

#[tokio::test]
async fn status_faults_have_the_documented_bodies() {
    let mock = start_with(MockOptions {
        fault: Some(Fault::Status(503)),
        ..MockOptions::default()
    })
    .await;
    let addr = mock.addr();
    let reply = send(addr, "POST", "/custom/t", &[], b"").await;
    assert_eq!((reply.status, reply.error()), (503, "server_error".into()));
    assert_dated(&reply);

    mock.set_fault(Some(Fault::Status(401)));
    let reply = post_json(addr, DELIVERECT, &[JSON], &deliverect_body()).await;
    assert_eq!(
        (reply.status, reply.error()),
        (401, "invalid_client".into())
    );

    mock.set_fault(Some(Fault::Status(429)));
    let reply = send(addr, "POST", "/custom/t", &[], b"").await;
    assert_eq!((reply.status, reply.error()), (429, "slow_down".into()));
    assert_eq!(reply.header("retry-after"), Some("2"));

    mock.set_fault(Some(Fault::Status(418)));
    let reply = send(addr, "POST", "/custom/t", &[], b"").await;
    assert_eq!(reply.status, 418);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(serde_json::from_str::<Value>(&reply.body).is_err());

    // Faults apply only to requests that pass validation, and a script wins over them.
    let reply = send(addr, "POST", DELIVERECT, &[JSON], b"{}").await;
    assert_eq!(reply.status, 400);
    mock.script(vec![ScriptedResponse::text(200, "scripted")]);
    assert_eq!(
        send(addr, "POST", "/custom/t", &[], b"").await.body,
        "scripted"
    );
    assert_eq!(send(addr, "POST", "/custom/t", &[], b"").await.status, 418);

    mock.reset();
    assert_eq!(send(addr, "POST", "/custom/t", &[], b"").await.status, 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn malformed_and_delay_faults() {
    let mock = start_with(MockOptions {
        fault: Some(Fault::Malformed),
        ..MockOptions::default()
    })
    .await;
    let reply = send(mock.addr(), "POST", "/custom/t", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/html"));
    assert_eq!(reply.body, "<html><body>Bad Gateway</body></html>");

    mock.set_fault(Some(Fault::Delay(300)));
    let started = Instant::now();
    let reply = send(mock.addr(), "POST", "/custom/t", &[], b"").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(reply.json()["access_token"].is_string());
    mock.shutdown().await;
}

#[tokio::test]
async fn out_of_range_fault_status_is_refused_at_start() {
    for status in [99, 600] {
        let err = MockServer::start(MockOptions {
            fault: Some(Fault::Status(status)),
            ..MockOptions::default()
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}

// --- Admin API ---

async fn admin(addr: SocketAddr, method: &str, path: &str, body: Value) -> Reply {
    send(addr, method, path, &[JSON], body.to_string().as_bytes()).await
}

#[tokio::test]
async fn admin_api_steers_the_mock() {
    let mock = start().await;
    let addr = mock.addr();

    let reply = admin(addr, "POST", "/__admin/script", json!({ "responses": [
        { "status": 200, "headers": { "date": "Thu, 01 Jan 2026 00:00:00 GMT" }, "json": { "access_token": "a" } },
        { "body": "plain", "delay_ms": 10 },
    ]})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["queued"], 2);
    let first = send(addr, "POST", "/custom/t", &[("X-Probe", "yes")], b"k=v").await;
    assert_eq!(first.header("date"), Some("Thu, 01 Jan 2026 00:00:00 GMT"));
    assert_eq!(first.json()["access_token"], "a");
    let second = send(addr, "POST", "/custom/t", &[], b"").await;
    assert_eq!((second.status, second.body.as_str()), (200, "plain"));

    let reply = admin(addr, "GET", "/__admin/requests", json!(null)).await;
    let listed = reply.json();
    assert_eq!(listed["count"], 2, "admin calls are not recorded");
    let recorded: Vec<RecordedRequest> =
        serde_json::from_value(listed["requests"].clone()).unwrap();
    assert_eq!(recorded, mock.requests());
    assert_eq!(recorded[0].headers["x-probe"], "yes");
    assert_eq!(recorded[0].body, "k=v");

    let reply = admin(
        addr,
        "POST",
        "/__admin/config",
        json!({ "fault": { "status": 502 }, "lifetime_secs": 5, "latency_ms": 0 }),
    )
    .await;
    assert_eq!(
        reply.json(),
        json!({ "fault": { "status": 502 }, "lifetime_secs": 5, "latency_ms": 0, "toast_rate_limit": false })
    );
    assert_eq!(send(addr, "POST", "/custom/t", &[], b"").await.status, 502);
    admin(
        addr,
        "POST",
        "/__admin/config",
        json!({ "fault": { "malformed": true } }),
    )
    .await;
    assert_eq!(
        send(addr, "POST", "/custom/t", &[], b"")
            .await
            .header("content-type"),
        Some("text/html")
    );
    admin(
        addr,
        "POST",
        "/__admin/config",
        json!({ "fault": { "delay_ms": 1 } }),
    )
    .await;
    assert_eq!(
        send(addr, "POST", "/custom/t", &[], b"").await.json()["expires_in"],
        5
    );
    let reply = admin(
        addr,
        "POST",
        "/__admin/config",
        json!({ "fault": null, "lifetime_secs": null }),
    )
    .await;
    assert_eq!(
        reply.json(),
        json!({ "fault": null, "lifetime_secs": null, "latency_ms": 0, "toast_rate_limit": false })
    );
    assert_eq!(
        send(addr, "POST", "/custom/t", &[], b"").await.json()["expires_in"],
        3600
    );
    let reply = admin(addr, "GET", "/__admin/config", json!(null)).await;
    assert_eq!(reply.json()["fault"], Value::Null);

    mock.script(vec![ScriptedResponse::text(500, "never sent")]);
    mock.set_fault(Some(Fault::Status(500)));
    let reply = admin(addr, "POST", "/__admin/reset", json!(null)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(mock.request_count(), 0);
    assert_eq!(send(addr, "POST", "/custom/t", &[], b"").await.status, 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn admin_api_refuses_bad_input_atomically() {
    let mock = start().await;
    let addr = mock.addr();
    for body in [
        json!({ "responses": [{ "status": 200 }, { "status": 99 }] }),
        json!({ "responses": [{ "headers": { "bad name": "v" } }] }),
        json!({ "responses": [{ "headers": { "x": "bad\nvalue" } }] }),
        json!({ "responses": [{ "stauts": 200 }] }),
        json!([]),
    ] {
        let reply = admin(addr, "POST", "/__admin/script", body.clone()).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "invalid_request".into()),
            "{body}"
        );
    }
    assert_eq!(
        send(addr, "POST", "/custom/t", &[], b"").await.json()["token_type"],
        "Bearer",
        "nothing queued"
    );

    for body in [
        json!({ "fault": { "status": 42 } }),
        json!({ "fault": { "malformed": false } }),
        json!({ "fault": { "status": 500, "delay_ms": 1 } }),
        json!({ "fault": "boom" }),
        json!({ "latency_ms": -1, "fault": { "status": 500 } }),
        json!({ "lifetime": 5 }),
        json!("not an object"),
    ] {
        let reply = admin(addr, "POST", "/__admin/config", body.clone()).await;
        assert_eq!(
            (reply.status, reply.error()),
            (400, "invalid_request".into()),
            "{body}"
        );
    }
    assert_eq!(
        send(addr, "POST", "/custom/t", &[], b"").await.status,
        200,
        "no fault set"
    );

    assert_eq!(
        admin(addr, "POST", "/__admin/requests", json!(null))
            .await
            .status,
        405
    );
    assert_eq!(
        admin(addr, "GET", "/__admin/reset", json!(null))
            .await
            .status,
        405
    );
    assert_eq!(
        admin(addr, "DELETE", "/__admin/config", json!(null))
            .await
            .status,
        405
    );
    assert_eq!(
        admin(addr, "GET", "/__admin/nope", json!(null))
            .await
            .status,
        404
    );
    mock.shutdown().await;
}

// --- Load and lifecycle ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_200_concurrent_requests_with_latency() {
    let mock = start_with(MockOptions {
        latency_ms: 300,
        ..MockOptions::default()
    })
    .await;
    let addr = mock.addr();
    let started = Instant::now();
    let tasks: Vec<_> = (0..200)
        .map(|_| tokio::spawn(async move { send(addr, "POST", "/custom/t", &[], b"").await }))
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 200);
        tokens.insert(reply.json()["access_token"].as_str().unwrap().to_string());
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300));
    assert!(
        elapsed < Duration::from_secs(5),
        "latency must not serialize requests: {elapsed:?}"
    );
    assert_eq!(tokens.len(), 200, "tokens are unique");
    assert_eq!(mock.request_count(), 200);
    mock.shutdown().await;
}

/// Runs where the open-file limit allows 1000 client plus 1000 server sockets
/// (Linux with a raised limit, as on CI); skipped elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_1000_concurrent_connections() {
    if !matches!(open_file_limit(), Some(limit) if limit >= 2_500) {
        eprintln!("skipped: open-file limit too low or unknown");
        return;
    }
    let mock = start_with(MockOptions {
        latency_ms: 500,
        ..MockOptions::default()
    })
    .await;
    let addr = mock.addr();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            tokio::spawn(async move { send(addr, "POST", "/custom/t", &[], b"").await.status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(mock.request_count(), 1000);
    mock.shutdown().await;
}

/// The soft limit on open files, from `/proc/self/limits` (Linux only).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[tokio::test]
async fn keep_alive_connections_serve_several_requests() {
    let mock = start().await;
    let stream = TcpStream::connect(mock.addr()).await.unwrap();
    let request = "POST /custom/t HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    let last =
        "POST /custom/t HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    write_all(&stream, format!("{request}{request}{last}").as_bytes()).await;
    let out = String::from_utf8(read_to_end(&stream).await).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 3);
    assert_eq!(mock.request_count(), 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_then_stops_listening() {
    let mock = start_with(MockOptions {
        latency_ms: 300,
        ..MockOptions::default()
    })
    .await;
    let addr = mock.addr();
    let in_flight =
        tokio::spawn(async move { send(addr, "POST", "/custom/t", &[], b"").await.status });
    // An idle keep-alive connection must not hold shutdown up.
    let _idle = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    mock.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(in_flight.await.unwrap(), 200);
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let mock = start().await;
    let addr = mock.addr();
    drop(mock);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn url_and_addr_name_the_bound_port() {
    let mock = start().await;
    assert_ne!(mock.addr().port(), 0);
    assert_eq!(
        mock.url(),
        format!("http://127.0.0.1:{}", mock.addr().port())
    );
    mock.shutdown().await;
}

// --- CLI arguments ---

#[test]
fn cli_arguments_map_to_options_and_refuse_non_loopback_hosts() {
    let opts = MockArgs::default().to_options().unwrap();
    assert_eq!(opts.addr, "127.0.0.1:0".parse().unwrap());
    assert_eq!(opts.fault, None);

    let args = MockArgs {
        host: "localhost".into(),
        port: 8089,
        lifetime_secs: Some(60),
        latency_ms: 5,
        fault_status: Some(503),
        client_id: Some("id".into()),
        client_secret: Some("secret".into()),
        ..MockArgs::default()
    };
    let opts = args.to_options().unwrap();
    assert_eq!(opts.addr, "127.0.0.1:8089".parse().unwrap());
    assert_eq!((opts.lifetime_secs, opts.latency_ms), (Some(60), 5));
    assert_eq!(opts.fault, Some(Fault::Status(503)));
    assert_eq!(opts.credentials, Some(("id".into(), "secret".into())));

    let v6 = MockArgs {
        host: "::1".into(),
        ..MockArgs::default()
    }
    .to_options()
    .unwrap();
    assert!(v6.addr.ip().is_loopback());

    for host in ["0.0.0.0", "192.168.1.10", "::", "example.com"] {
        let err = MockArgs {
            host: host.into(),
            ..MockArgs::default()
        }
        .to_options()
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{host}");
    }
    let two_faults = MockArgs {
        fault_malformed: true,
        fault_delay_ms: Some(5),
        ..MockArgs::default()
    };
    assert!(two_faults.to_options().is_err());
    let half_pair = MockArgs {
        client_id: Some("id".into()),
        ..MockArgs::default()
    };
    assert!(half_pair.to_options().is_err());
    assert!(run_cli(MockArgs {
        host: "10.0.0.1".into(),
        ..MockArgs::default()
    })
    .is_err());
}

#[cfg(feature = "cli")]
#[test]
fn cli_flags_parse() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: MockArgs,
    }
    let cli = Cli::try_parse_from([
        "mock",
        "--host",
        "::1",
        "--port",
        "9000",
        "--lifetime",
        "30",
        "--latency-ms",
        "5",
        "--fault-delay-ms",
        "7",
        "--client-id",
        "a",
        "--client-secret",
        "b",
    ])
    .unwrap();
    assert_eq!(
        cli.args,
        MockArgs {
            host: "::1".into(),
            port: 9000,
            lifetime_secs: Some(30),
            latency_ms: 5,
            fault_status: None,
            fault_malformed: false,
            fault_delay_ms: Some(7),
            client_id: Some("a".into()),
            client_secret: Some("b".into()),
        }
    );
    assert_eq!(
        Cli::try_parse_from(["mock"]).unwrap().args,
        MockArgs::default()
    );
    assert!(Cli::try_parse_from(["mock", "--fault-status", "500", "--fault-malformed"]).is_err());
    assert!(Cli::try_parse_from(["mock", "--client-id", "a"]).is_err());
}

const UBER: &str = "/uber/oauth/v2/token";
const STUART: &str = "/stuart/oauth/token";
const TOAST: &str = "/toast/authentication/v1/authentication/login";
const UBER_FORM: &[u8] =
    b"grant_type=client_credentials&client_id=cid&client_secret=sec&scope=eats.deliveries";

fn toast_body() -> Value {
    json!({"clientId": "cid", "clientSecret": "sec", "userAccessType": "TOAST_MACHINE_CLIENT"})
}

#[tokio::test]
async fn uber_takes_a_form_with_scope_only() {
    let mock = start().await;
    let addr = mock.addr();
    let ok = send(addr, "POST", UBER, &[FORM], UBER_FORM).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["expires_in"], 30 * 24 * 3600);
    let no_scope = b"grant_type=client_credentials&client_id=cid&client_secret=sec";
    let reply = send(addr, "POST", UBER, &[FORM], no_scope).await;
    assert_eq!(
        (reply.status, reply.error()),
        (400, "invalid_request".into())
    );
    assert!(reply.body.contains("scope"), "{}", reply.body);
    let as_json = json!({"grant_type": "client_credentials", "client_id": "cid",
        "client_secret": "sec", "scope": "eats.deliveries"});
    let reply = post_json(addr, UBER, &[], &as_json).await;
    assert_eq!(reply.status, 400, "JSON is refused: {}", reply.body);
    mock.shutdown().await;
}

#[tokio::test]
async fn uber_answers_429_past_100_requests_an_hour_and_drops_the_oldest_past_100_live_tokens() {
    let mock = start().await;
    let addr = mock.addr();
    let mut tokens = Vec::new();
    for _ in 0..100 {
        let reply = send(addr, "POST", UBER, &[FORM], UBER_FORM).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        tokens.push(reply.json()["access_token"].as_str().unwrap().to_owned());
    }
    let ping = |token: String| async move {
        let header = format!("Bearer {token}");
        let headers = [("Authorization", header.as_str())];
        send(addr, "GET", "/uber/ping", &headers, b"").await.status
    };
    assert_eq!(ping(tokens[0].clone()).await, 200);
    let limited = send(addr, "POST", UBER, &[FORM], UBER_FORM).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((3590..=3600).contains(&retry_after), "{retry_after}");
    // Another client has its own hour.
    let other = b"grant_type=client_credentials&client_id=other&client_secret=sec&scope=eats.store";
    assert_eq!(send(addr, "POST", UBER, &[FORM], other).await.status, 200);
    // An hour later: the 101st live token invalidates the oldest, only it.
    mock.forget_request_times();
    let reply = send(addr, "POST", UBER, &[FORM], UBER_FORM).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let newest = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(ping(tokens[0].clone()).await, 401);
    assert_eq!(ping(tokens[1].clone()).await, 200);
    assert_eq!(ping(newest).await, 200);
    assert_eq!(ping("mock_uber_never".into()).await, 401);
    mock.shutdown().await;
}

#[tokio::test]
async fn toast_hands_out_the_same_token_and_limits_2_an_hour_when_asked() {
    let mock = start().await;
    let addr = mock.addr();
    let first = post_json(addr, TOAST, &[JSON], &toast_body()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let body = first.json();
    assert_eq!(body["status"], "SUCCESS");
    let token = body["token"]["accessToken"].as_str().unwrap().to_owned();
    assert!((86_399..=86_400).contains(&body["token"]["expiresIn"].as_u64().unwrap()));
    // Asked again: the same token, with what is left of its day.
    for _ in 0..3 {
        let again = post_json(addr, TOAST, &[JSON], &toast_body()).await.json();
        assert_eq!(again["token"]["accessToken"], token.as_str());
    }
    // snake_case fields, a missing userAccessType, or a form are refused.
    let snake = json!({"client_id": "cid", "client_secret": "sec",
        "userAccessType": "TOAST_MACHINE_CLIENT"});
    assert_eq!(post_json(addr, TOAST, &[JSON], &snake).await.status, 400);
    let no_type = json!({"clientId": "cid", "clientSecret": "sec"});
    assert_eq!(post_json(addr, TOAST, &[JSON], &no_type).await.status, 400);
    let form = send(
        addr,
        "POST",
        TOAST,
        &[FORM],
        b"clientId=cid&clientSecret=sec",
    )
    .await;
    assert_eq!(form.status, 400);
    // The device: past 2 requests an hour, a 429 (the 4 above were before it).
    mock.set_toast_rate_limit(true);
    assert_eq!(
        post_json(addr, TOAST, &[JSON], &toast_body()).await.status,
        200
    );
    assert_eq!(
        post_json(addr, TOAST, &[JSON], &toast_body()).await.status,
        200
    );
    let limited = post_json(addr, TOAST, &[JSON], &toast_body()).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").is_some());
    // A short lifetime: the last minute brings a new token.
    mock.reset();
    mock.set_lifetime_secs(Some(60));
    let a = post_json(addr, TOAST, &[JSON], &toast_body()).await.json();
    let b = post_json(addr, TOAST, &[JSON], &toast_body()).await.json();
    assert_ne!(a["token"]["accessToken"], b["token"]["accessToken"]);
    mock.shutdown().await;
}

#[tokio::test]
async fn stuart_issues_8_kib_jwts_that_pass_as_an_authorization_header() {
    let mock = start().await;
    let addr = mock.addr();
    let form = b"grant_type=client_credentials&client_id=cid&client_secret=sec&scope=api";
    let reply = send(addr, "POST", STUART, &[FORM], form).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert!((8_000..=8 * 1024).contains(&token.len()), "{}", token.len());
    assert_eq!(jwt_claims(&token)["sub"], "cid");
    let header = format!("Bearer {token}");
    let ping = send(
        addr,
        "GET",
        "/stuart/ping",
        &[("Authorization", &header)],
        b"",
    )
    .await;
    assert_eq!(ping.status, 200, "{}", ping.body);
    let no_scope = b"grant_type=client_credentials&client_id=cid&client_secret=sec";
    assert_eq!(
        send(addr, "POST", STUART, &[FORM], no_scope).await.status,
        400
    );
    mock.shutdown().await;
}
