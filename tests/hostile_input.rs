//! Input that is absurd, hostile or merely unusual must neither overflow, panic, wrap nor reach the wire in a
//! form the server reads differently. Each has a conformance vector too where it
//! is core behaviour (named in the test).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::json;
use tokenwell::expiry::{MAX_LIFETIME_MS, MAX_RETRY_AFTER_MS};
use tokenwell::native::TokioSpawner;
use tokenwell::profile::Profile;
use tokenwell::HttpRequest;
use tokenwell::HttpResponse;
use tokenwell::{ErrorKind, ManualClock, Result, TokenClient, TokenConfig, Transport};

const T0: i64 = 1_767_225_600_000;
const SECRET: &str = "s3cr3t-Zq81-value";

/// Answers requests from a queue and counts them.
#[derive(Default)]
struct Scripted {
    responses: Mutex<VecDeque<HttpResponse>>,
    count: AtomicUsize,
}

impl Scripted {
    fn push(&self, status: u16, headers: &[(&str, &str)], body: serde_json::Value) {
        self.responses.lock().unwrap().push_back(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string().into_bytes(),
        });
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Transport for Scripted {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse> {
        self.count.fetch_add(1, Ordering::SeqCst);
        let next = self.responses.lock().unwrap().pop_front();
        next.ok_or_else(|| tokenwell::Error::new(ErrorKind::Network, "script exhausted"))
    }
}

fn config(extra: serde_json::Value) -> serde_json::Value {
    let mut cfg = json!({
        "provider": "custom", "token_url": "https://auth.example.com/token",
        "client_id": "client-1", "client_secret": SECRET
    });
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    cfg
}

fn client(transport: Arc<Scripted>, clock: Arc<ManualClock>) -> TokenClient {
    TokenClient::builder(TokenConfig::from_value(config(json!({}))).unwrap())
        .transport(transport)
        .clock(clock)
        .spawner(Arc::new(TokioSpawner::current_or_shared().unwrap()))
        .build()
        .unwrap()
}

/// Vector `error-retry-after-huge`: `Retry-After: u64::MAX` must not wrap
/// `now + delay` (a request on every call in release builds, a panic in
/// debug): it is capped at an hour.
#[tokio::test]
async fn a_huge_retry_after_waits_the_capped_hour_without_overflow() {
    let transport = Arc::new(Scripted::default());
    let clock = Arc::new(ManualClock::new(T0));
    let c = client(transport.clone(), clock.clone());
    transport.push(
        429,
        &[("retry-after", "18446744073709551615")],
        json!({"error": "slow_down"}),
    );
    let e = c.token().await.unwrap_err();
    assert_eq!(e.retry_after_ms(), Some(MAX_RETRY_AFTER_MS));
    for _ in 0..5 {
        assert_eq!(c.token().await.unwrap_err().kind(), ErrorKind::RateLimited);
    }
    clock.advance(MAX_RETRY_AFTER_MS - 1);
    assert!(c.token().await.is_err());
    assert_eq!(transport.count(), 1, "no request within the hour");
    transport.push(200, &[], json!({"access_token": "t1", "expires_in": 60}));
    clock.advance(1);
    assert_eq!(c.token().await.unwrap().secret(), "t1");
    assert_eq!(transport.count(), 2);
}

/// Vector `error-server-retry-after`: a 503's `Retry-After` is
/// honoured, as delay-seconds and as an HTTP-date.
#[tokio::test]
async fn a_503_retry_after_is_honoured_in_both_forms() {
    for retry_after in ["30", "Thu, 01 Jan 2026 00:00:30 GMT"] {
        let transport = Arc::new(Scripted::default());
        let clock = Arc::new(ManualClock::new(T0));
        let c = client(transport.clone(), clock.clone());
        transport.push(
            503,
            &[
                ("retry-after", retry_after),
                ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
            ],
            json!({"error": "temporarily_unavailable"}),
        );
        let e = c.token().await.unwrap_err();
        assert_eq!(
            (e.kind(), e.retry_after_ms()),
            (ErrorKind::ServerError, Some(30_000))
        );
        clock.advance(29_999);
        assert!(c.token().await.is_err());
        assert_eq!(transport.count(), 1, "{retry_after}: retried too early");
        transport.push(200, &[], json!({"access_token": "t1", "expires_in": 60}));
        clock.advance(1);
        assert_eq!(c.token().await.unwrap().secret(), "t1");
    }
}

/// Vector `expiry-lifetime-capped`: extreme expiry fields are capped
/// at ten years; `expires_at_unix_ms` is never negative, never past year 9999.
#[tokio::test]
async fn extreme_expiries_are_capped_and_never_negative() {
    let old = ("date", "Thu, 01 Jan 1970 00:00:00 GMT");
    let cases = [
        (json!({"expires_at": 1e300}), vec![old], MAX_LIFETIME_MS),
        (
            json!({"expires_in": 60, "created_at": 1e300}),
            vec![old],
            60_000,
        ),
        (
            json!({"expires_in": 999_999_999_999u64}),
            vec![],
            MAX_LIFETIME_MS,
        ),
        (
            json!({"expires_at": "9999-12-31T23:59:59Z"}),
            vec![],
            MAX_LIFETIME_MS,
        ),
    ];
    for (fields, headers, lifetime) in cases {
        let transport = Arc::new(Scripted::default());
        let c = client(transport.clone(), Arc::new(ManualClock::new(T0)));
        let mut body = json!({"access_token": "t"});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        transport.push(200, &headers, body);
        let token = c.token().await.unwrap();
        assert_eq!(token.expires_at_unix_ms(), T0 + lifetime as i64, "{fields}");
    }
    // A wall clock at the end of time still reports a representable expiry.
    let transport = Arc::new(Scripted::default());
    let c = client(transport.clone(), Arc::new(ManualClock::new(i64::MAX / 2)));
    transport.push(200, &[], json!({"access_token": "t", "expires_in": 60}));
    let expires = c.token().await.unwrap().expires_at_unix_ms();
    assert_eq!(expires, tokenwell::expiry::MAX_EXPIRES_UNIX_MS);
    // …and one before 1970, a non-negative one.
    let transport = Arc::new(Scripted::default());
    let c = client(transport.clone(), Arc::new(ManualClock::new(-T0)));
    transport.push(200, &[], json!({"access_token": "t", "expires_in": 60}));
    assert_eq!(c.token().await.unwrap().expires_at_unix_ms(), 0);
}

fn build_error(extra: serde_json::Value) -> tokenwell::Error {
    TokenConfig::from_value(config(extra))
        .and_then(|c| Profile::resolve(&c))
        .expect_err("the config must be refused")
}

/// Vectors `config-header-line-break`, `config-header-name-invalid` and
/// `config-multipart-line-break`: a config whose request cannot be sent as
/// meant is a `config` error at construction that names the field, not its value.
#[test]
fn unsendable_configs_are_refused_naming_the_field() {
    let cases = [
        (json!({"headers": {"x-key": "a\r\nx-evil: 1"}}), "x-key"),
        (json!({"headers": {"x-key": "a\nb"}}), "x-key"),
        (json!({"headers": {"x-key": "nul\u{0}"}}), "x-key"),
        (json!({"headers": {"x-key": " padded"}}), "x-key"),
        (json!({"headers": {"x-key": "caf\u{e9}"}}), "x-key"),
        (json!({"headers": {"bad name": "v"}}), "bad name"),
        (json!({"headers": {"": "v"}}), "headers"),
        (json!({"headers": {"x:y": "v"}}), "x:y"),
        (json!({"headers": {"host": "evil.example"}}), "host"),
        (
            json!({"headers": {"Content-Length": "5"}}),
            "Content-Length",
        ),
        (
            json!({"encoding": "multipart", "client_id": "a\r\n--x"}),
            "client_id",
        ),
        (
            json!({"encoding": "multipart", "client_secret": format!("{SECRET}\r\nx")}),
            "client_secret",
        ),
        (
            json!({"encoding": "multipart", "scope": "a --tokenwell-8f3a2c1e9b7d4f60 b"}),
            "scope",
        ),
        (
            json!({"encoding": "multipart", "extra_params": {"note": "line\nbreak"}}),
            "note",
        ),
        (
            json!({"field_names": {"client_id": "id\r\nx"}}),
            "field name",
        ),
        (json!({"extra_params": {"": "v"}}), "field name"),
        (
            json!({"credentials": "basic", "basic_encoding": "raw", "client_id": "a:b"}),
            "client_id",
        ),
        (
            json!({"token_url": "https://auth.example.com/to ken"}),
            "token_url",
        ),
        (
            json!({"token_url": "https://auth.example.com/token\r\n"}),
            "token_url",
        ),
    ];
    for (extra, field) in cases {
        let e = build_error(extra.clone());
        assert_eq!(e.kind(), ErrorKind::Config, "{extra}");
        let text = format!("{e} {e:?}");
        assert!(e.detail().contains(field), "{extra}: {:?}", e.detail());
        assert!(
            !text.contains(SECRET),
            "{extra}: the error leaks the secret"
        );
    }
    let base_url = TokenConfig::from_value(json!({
        "provider": "passport", "base_url": "https://a.example\t/x",
        "client_id": "c", "client_secret": SECRET
    }))
    .and_then(|c| Profile::resolve(&c))
    .unwrap_err();
    assert!(base_url.detail().contains("base_url"), "{base_url}");
    // What can be sent still is: line breaks in JSON and form bodies are encoded.
    for encoding in ["json", "form"] {
        let cfg = config(json!({"encoding": encoding, "scope": "a\r\nb"}));
        Profile::resolve(&TokenConfig::from_value(cfg).unwrap()).unwrap();
    }
}

fn basic(extra: serde_json::Value) -> String {
    let cfg = TokenConfig::from_value(config(extra)).unwrap();
    let (profile, creds) = Profile::resolve(&cfg).unwrap();
    let req = tokenwell::request::build(&profile, &creds);
    let value = req
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone())
        .unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ").unwrap())
        .unwrap();
    String::from_utf8(decoded).unwrap()
}

/// Vectors `wire-basic-form-encoded` and `wire-basic-raw`: Basic
/// credentials are form-encoded first (RFC 6749 §2.3.1), or raw on request.
#[test]
fn basic_credentials_are_form_encoded_unless_raw() {
    let creds = json!({"credentials": "basic", "client_id": "id:with colon", "client_secret": "p@ss:w~rd/+é"});
    let mut form = creds.clone();
    form["basic_encoding"] = json!("form");
    assert_eq!(basic(creds.clone()), basic(form));
    assert_eq!(
        basic(creds.clone()),
        "id%3Awith+colon:p%40ss%3Aw%7Erd%2F%2B%C3%A9"
    );
    let mut raw = creds;
    raw["basic_encoding"] = json!("raw");
    raw["client_id"] = json!("plain-id");
    assert_eq!(basic(raw), "plain-id:p@ss:w~rd/+é");
    // Unreserved characters are the same either way (the existing vectors).
    let plain = json!({"credentials": "both", "client_id": "demo-client", "client_secret": "demo-secret-Zq81"});
    assert_eq!(basic(plain), "demo-client:demo-secret-Zq81");
}

/// Vector `wire-gzip-response`: a gzip-encoded response is decoded
/// natively, and the 64 KiB cap counts decoded bytes: a gzip bomb is refused.
#[cfg(feature = "mock")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_responses_are_decoded_and_capped_after_decoding() {
    use tokenwell::mock::{MockOptions, MockServer, ScriptedResponse};
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let c = TokenClient::new(
        TokenConfig::from_value(config(json!({
            "token_url": format!("{}/custom/token", mock.url())
        })))
        .unwrap(),
    )
    .unwrap();
    let padded =
        |pad: usize| json!({"access_token": "gz", "expires_in": 60, "pad": "a".repeat(pad)});
    // Just under the cap once decoded (compressed it is tiny): accepted.
    mock.script(vec![ScriptedResponse::json(200, padded(60_000)).gzipped()]);
    assert_eq!(c.token().await.unwrap().secret(), "gz");
    // A bomb: 1 MiB decoded from about a KiB. Refused, and not read to the end.
    assert!(c.invalidate("gz"));
    mock.script(vec![ScriptedResponse::json(200, padded(1 << 20)).gzipped()]);
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
    mock.shutdown().await;
}

/// The mock provider decodes form-encoded Basic credentials as an
/// RFC 6749 server does: a client id with `:` and a secret with `+` match.
#[cfg(feature = "mock")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_decodes_form_encoded_basic_credentials() {
    use tokenwell::mock::{MockOptions, MockServer};
    let (id, secret) = ("demo:client id", "s3cr+et/é%");
    let mock = MockServer::start(MockOptions {
        credentials: Some((id.to_owned(), secret.to_owned())),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let client = |encoding: &str| {
        TokenClient::new(
            TokenConfig::from_value(json!({
                "provider": "deliveroo", "base_url": format!("{}/deliveroo", mock.url()),
                "client_id": id, "client_secret": secret, "basic_encoding": encoding
            }))
            .unwrap(),
        )
    };
    assert!(client("form").unwrap().token().await.is_ok());
    // Raw, the `:` cannot be told apart: refused before anything is sent.
    assert_eq!(client("raw").unwrap_err().kind(), ErrorKind::Config);
    mock.shutdown().await;
}
