//! Cache behaviour that needs more control than the vectors give: a scripted
//! in-memory transport, cancellation, events, and the secret canary.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokenwell::native::TokioSpawner;
use tokenwell::HttpRequest;
use tokenwell::HttpResponse;
use tokenwell::{ErrorKind, Event, ManualClock, Result, TokenClient, TokenConfig, Transport};

/// Answers requests from a queue, after an optional delay, counting them.
#[derive(Default)]
struct Scripted {
    responses: Mutex<VecDeque<Result<HttpResponse>>>,
    delay: Mutex<Duration>,
    count: AtomicUsize,
    last: Mutex<Option<HttpRequest>>,
}

impl Scripted {
    fn push_json(&self, status: u16, body: serde_json::Value) {
        self.responses.lock().unwrap().push_back(Ok(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }));
    }
    fn push(&self, r: Result<HttpResponse>) {
        self.responses.lock().unwrap().push_back(r);
    }
    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Transport for Scripted {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        self.count.fetch_add(1, Ordering::SeqCst);
        *self.last.lock().unwrap() = Some(request);
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        let next = self.responses.lock().unwrap().pop_front();
        next.unwrap_or_else(|| {
            Err(tokenwell::Error::new(
                tokenwell::ErrorKind::Network,
                "script exhausted",
            ))
        })
    }
}

fn config(secret: &str) -> TokenConfig {
    TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox",
        "client_id": "client-1", "client_secret": secret
    }))
    .unwrap()
}

fn client(transport: Arc<Scripted>, clock: Arc<ManualClock>) -> TokenClient {
    TokenClient::builder(config("s3cr3t-value"))
        .transport(transport)
        .clock(clock)
        .spawner(Arc::new(TokioSpawner::current_or_shared().unwrap()))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_leader_strands_nobody() {
    let transport = Arc::new(Scripted::default());
    *transport.delay.lock().unwrap() = Duration::from_millis(200);
    transport.push_json(
        200,
        serde_json::json!({"access_token": "t1", "expires_in": 300}),
    );
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let c = client(transport.clone(), clock);

    // The first caller starts the fetch and is then cancelled.
    let leader = tokio::spawn({
        let c = c.clone();
        async move { c.token().await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    leader.abort();
    let waiters: Vec<_> = (0..10)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.token().await.map(|t| t.secret().to_owned()) })
        })
        .collect();
    for w in waiters {
        assert_eq!(w.await.unwrap().unwrap(), "t1");
    }
    assert_eq!(transport.count(), 1);

    // Even if every caller gives up, the fetch completes and fills the cache.
    let c2 = client(transport.clone(), Arc::new(ManualClock::new(0)));
    transport.push_json(
        200,
        serde_json::json!({"access_token": "t2", "expires_in": 300}),
    );
    let _ = tokio::time::timeout(Duration::from_millis(10), c2.token()).await;
    c2.settle().await;
    assert_eq!(c2.token().await.unwrap().secret(), "t2");
    assert_eq!(transport.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_one_request() {
    let transport = Arc::new(Scripted::default());
    *transport.delay.lock().unwrap() = Duration::from_millis(50);
    transport.push_json(
        200,
        serde_json::json!({"access_token": "bulk", "expires_in": 300}),
    );
    let c = client(transport.clone(), Arc::new(ManualClock::new(0)));
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.token().await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().secret(), "bulk");
    }
    assert_eq!(transport.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_hits_fetches_and_refreshes() {
    let transport = Arc::new(Scripted::default());
    transport.push_json(
        200,
        serde_json::json!({"access_token": "e1", "expires_in": 100}),
    );
    transport.push_json(503, serde_json::json!({"error": "temporarily_unavailable"}));
    transport.push_json(
        200,
        serde_json::json!({"access_token": "e2", "expires_in": 100}),
    );
    let clock = Arc::new(ManualClock::new(0));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = {
        let seen = seen.clone();
        move |e: &Event| {
            let name = match e {
                Event::Hit { stale, .. } => format!("hit(stale={stale})"),
                Event::Miss { .. } => "miss".to_owned(),
                Event::FetchStarted {
                    fetch_id, reason, ..
                } => format!("fetch_started({fetch_id},{})", reason.code()),
                Event::Fetched {
                    fetch_id,
                    reason,
                    from_store,
                    status,
                    lifetime_ms,
                    ..
                } => format!(
                    "fetched({fetch_id},{},store={from_store},{status:?},{lifetime_ms})",
                    reason.code()
                ),
                Event::RefreshStarted { fetch_id, .. } => format!("refresh_started({fetch_id})"),
                Event::RefreshFailed {
                    fetch_id,
                    error,
                    lifetime_ms,
                    ..
                } => format!(
                    "refresh_failed({fetch_id},{},{:?},{lifetime_ms})",
                    error.code(),
                    error.status()
                ),
                Event::FetchFailed { error, .. } => format!("fetch_failed({})", error.code()),
                Event::StoreFailed { error, .. } => format!("store_failed({})", error.code()),
                _ => "other".to_owned(),
            };
            seen.lock().unwrap().push(name);
        }
    };
    let c = TokenClient::builder(config("s3cr3t-value"))
        .transport(transport.clone())
        .clock(clock.clone())
        .on_event(Arc::new(sink))
        .build()
        .unwrap();
    c.token().await.unwrap();
    c.token().await.unwrap();
    clock.advance(80_000);
    c.token().await.unwrap();
    c.settle().await;
    clock.advance(2_000); // past the backoff
    assert!(c.invalidate("e1"));
    c.token().await.unwrap();
    let mut seen = seen.lock().unwrap().clone();
    // The background refresh may fail before its caller's stale hit is told:
    // those two events race, the rest are ordered.
    if seen.get(6).is_some_and(|e| e.starts_with("refresh_failed")) {
        seen.swap(6, 7);
    }
    assert_eq!(
        seen,
        [
            "miss",
            "fetch_started(1,first)",
            "fetched(1,first,store=false,Some(200),100000)",
            "hit(stale=false)",
            "fetch_started(2,refresh)",
            "refresh_started(2)",
            "hit(stale=true)",
            "refresh_failed(2,server_error,Some(503),20000)",
            "miss",
            "fetch_started(3,after_401)",
            "fetched(3,after_401,store=false,Some(200),100000)",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_whether_a_usable_token_is_held() {
    use tokenwell::{Health, Status};
    let transport = Arc::new(Scripted::default());
    transport.push_json(
        200,
        serde_json::json!({"access_token": "s1", "expires_in": 100}),
    );
    transport.push_json(503, serde_json::json!({"error": "temporarily_unavailable"}));
    let clock = Arc::new(ManualClock::new(0));
    let c = client(transport.clone(), clock.clone());
    let status: Status = c.status();
    assert_eq!(status.health, Health::Idle);
    assert!(!status.token_usable && status.token_expires_in_ms.is_none());
    assert!(status.store.is_none() && !status.fetching);
    c.token().await.unwrap();
    let status = c.status();
    assert_eq!(status.health, Health::Up);
    assert_eq!(status.token_expires_in_ms, Some(100_000));
    // The refresh ahead fails: still serving, a warning.
    clock.advance(85_000);
    c.token().await.unwrap();
    c.settle().await;
    let status = c.status();
    assert_eq!(status.health, Health::Degraded);
    assert!(status.health.is_healthy());
    let (error, _) = status.last_error.clone().unwrap();
    assert_eq!((error.code(), error.status()), ("server_error", Some(503)));
    assert!(status.backoff_ms.is_some_and(|ms| ms > 0));
    assert_eq!(status.token_expires_in_ms, Some(15_000));
    // Past expiry minus the skew: no usable token, and the last fetch failed.
    clock.advance(10_000);
    let status = c.status();
    assert_eq!(status.health, Health::Down);
    assert!(!status.health.is_healthy() && !status.token_usable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_tells_how_long_the_answer_holds() {
    let transport = Arc::new(Scripted::default());
    transport.push_json(
        200,
        serde_json::json!({"access_token": "l1", "expires_in": 300}),
    );
    let clock = Arc::new(ManualClock::new(0));
    let c = client(transport.clone(), clock.clone());
    assert_eq!(
        c.lease().await.unwrap().reuse_for_ms,
        0,
        "a fetched token is re-checked once"
    );
    clock.advance(40_000);
    assert_eq!(c.lease().await.unwrap().reuse_for_ms, 200_000);
    clock.advance(200_000);
    assert_eq!(
        c.lease().await.unwrap().reuse_for_ms,
        0,
        "refresh-ahead: ask every time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peek_lends_a_fresh_token_and_nothing_else() {
    let transport = Arc::new(Scripted::default());
    for token in ["p1", "p2"] {
        transport.push_json(
            200,
            serde_json::json!({"access_token": token, "expires_in": 300}),
        );
    }
    let clock = Arc::new(ManualClock::new(0));
    let c = client(transport.clone(), clock.clone());
    let secret = |t: &tokenwell::AccessToken| t.secret().to_owned();
    assert_eq!(c.peek(secret), None, "nothing fetched yet");
    c.token().await.unwrap();
    assert_eq!(c.peek(secret).as_deref(), Some("p1"));
    // Past the refresh point (80 % of 300 s, less the skew) peek declines:
    // token() serves p1 and refreshes in the background.
    clock.advance(240_000);
    assert_eq!(c.peek(secret), None);
    assert_eq!(c.token().await.unwrap().secret(), "p1");
    c.settle().await;
    assert_eq!(
        c.peek(secret).as_deref(),
        Some("p2"),
        "the refreshed token is lent"
    );
    assert!(c.invalidate("p2"));
    assert_eq!(c.peek(secret), None, "an invalidated token is never lent");
    assert_eq!(transport.count(), 2);
}

/// Captures every log record at every level.
struct Capture(Mutex<String>);
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        self.0
            .lock()
            .unwrap()
            .push_str(&format!("{} {}\n", record.level(), record.args()));
    }
    fn flush(&self) {}
}

/// The log records of every test in this binary, captured from the first call on.
fn captured_log() -> &'static Capture {
    static LOG: Capture = Capture(Mutex::new(String::new()));
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&LOG).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
    &LOG
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secret_and_token_never_leak() {
    let log = captured_log();
    const CANARY: &str = "canary-secret-5b7e91";
    const TOKEN: &str = "canary-token-0c44d2";

    let transport = Arc::new(Scripted::default());
    // A server that echoes the secret in its error description.
    transport.push_json(401, serde_json::json!({"error": "invalid_client", "error_description": format!("bad secret {CANARY}")}));
    transport.push(Ok(HttpResponse {
        status: 200,
        headers: vec![],
        body: format!("<html>{CANARY}</html>").into_bytes(),
    }));
    transport.push_json(
        400,
        serde_json::json!({"error": "invalid_request", "message": CANARY}),
    );
    transport.push_json(
        200,
        serde_json::json!({"access_token": TOKEN, "expires_in": "nope"}),
    );
    transport.push_json(
        200,
        serde_json::json!({"access_token": TOKEN, "expires_in": 300}),
    );
    let clock = Arc::new(ManualClock::new(0));
    let c = TokenClient::builder(config(CANARY))
        .transport(transport.clone())
        .clock(clock.clone())
        .build()
        .unwrap();

    let mut seen = format!("{c:?} {:?}", config(CANARY));
    for _ in 0..4 {
        let err = c.token().await.unwrap_err();
        seen.push_str(&format!("{err} {err:?}\n"));
        clock.advance(120_000); // past any backoff
    }
    let token = c.token().await.unwrap();
    seen.push_str(&format!("{token:?} {:?}", transport.last.lock().unwrap()));
    seen.push_str(&log.0.lock().unwrap());
    assert!(!seen.contains(CANARY), "secret leaked:\n{seen}");
    assert!(!seen.contains(TOKEN), "token leaked:\n{seen}");
    assert!(
        seen.contains("invalid_client") && seen.contains("[redacted]"),
        "{seen}"
    );
}

/// A token URL's query may carry credentials: its values are never shown,
/// not by `describe`, `Debug`, the DEBUG log line nor a transport's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_urls_query_values_never_show() {
    let log = captured_log();
    const KEY: &str = "query-canary-61c2";
    // Nothing listens on port 1: the real transport's error quotes the URL.
    let url = format!("http://127.0.0.1:1/token?api_key={KEY}&tenant=acme");
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "token_url": url,
        "client_id": "query-client", "client_secret": "query-secret-9d0b",
        "http": {"connect_timeout_ms": 2000, "timeout_ms": 2000}
    }))
    .unwrap();
    let (profile, _) = tokenwell::profile::Profile::resolve(&config).unwrap();
    let c = TokenClient::builder(config.clone()).build().unwrap();
    let err = c.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    let shown = "http://127.0.0.1:1/token?api_key=[redacted]&tenant=[redacted]";
    let request_line = format!("tokenwell: requesting a token from {shown}");
    let logged = log.0.lock().unwrap().clone();
    assert!(logged.contains(&request_line), "{logged}");
    assert!(c.describe().contains(shown), "{}", c.describe());
    let seen = format!(
        "{} {c:?} {config:?} {profile:?} {err} {err:?} {logged}",
        c.describe()
    );
    assert!(format!("{config:?} {profile:?}").contains("api_key=[redacted]"));
    assert!(!seen.contains(KEY), "the query's value leaked:\n{seen}");
}

/// Headers and extra body parameters may carry API keys: `Debug` of the
/// config and of its profile names them and never shows their values.
#[test]
fn header_and_parameter_values_never_show_in_debug() {
    const HEADER: &str = "header-canary-3e9a";
    const PARAM: &str = "param-canary-b71f";
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "token_url": "https://auth.example.com/token",
        "client_id": "debug-client", "client_secret": "debug-secret-5c2e",
        "headers": {"x-api-key": HEADER},
        "extra_params": {"partner_key": PARAM}
    }))
    .unwrap();
    let (profile, _) = tokenwell::profile::Profile::resolve(&config).unwrap();
    let seen = format!("{config:?} {profile:?} {config:#?} {profile:#?}");
    assert!(!seen.contains(HEADER), "a header's value leaked:\n{seen}");
    assert!(!seen.contains(PARAM), "a parameter's value leaked:\n{seen}");
    assert!(
        seen.contains("x-api-key") && seen.contains("partner_key"),
        "{seen}"
    );
}

/// A private key (`private_key_jwt`) is a secret like the client secret:
/// never in `describe`, `Debug` (plain or pretty), a log line or an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_never_shows() {
    let log = captured_log();
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/oidc/keys/ec256.pk8.pem"
    ))
    .unwrap();
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "token_url": "http://127.0.0.1:1/token",
        "client_id": "key-client", "credentials": "private_key_jwt", "private_key": pem,
        "http": {"connect_timeout_ms": 2000, "timeout_ms": 2000}
    }))
    .unwrap();
    let (profile, creds) = tokenwell::profile::Profile::resolve(&config).unwrap();
    let c = TokenClient::builder(config.clone()).build().unwrap();
    let err = c.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    let logged = log.0.lock().unwrap().clone();
    let seen = format!(
        "{} {c:?} {config:?} {config:#?} {profile:?} {creds:?} {creds:#?} {err} {err:?} {logged}",
        c.describe()
    );
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!seen.contains(line), "the private key leaked:\n{seen}");
    }
    assert!(
        !seen.contains(creds.key_material().expose()),
        "its fingerprint leaked"
    );
    assert!(
        seen.contains("private_key: Some(Secret([redacted]))"),
        "{seen}"
    );
}

/// A DoorDash signing secret is a secret like the client secret: never in
/// `describe`, `Debug`, a log line or an error, in its configured (base64url)
/// or decoded form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_secret_never_shows() {
    let log = captured_log();
    let (secret, decoded) = (
        "c2lnbmluZy1zZWNyZXQtY2FuYXJ5LXZhbHVl",
        "signing-secret-canary-value",
    );
    let value = serde_json::json!({
        "provider": "doordash", "developer_id": "dev-1", "key_id": "key-1",
        "signing_secret": secret,
    });
    let config = TokenConfig::from_value(value.clone()).unwrap();
    let (profile, creds) = tokenwell::profile::Profile::resolve(&config).unwrap();
    let c = TokenClient::builder(config.clone()).build().unwrap();
    c.token().await.unwrap();
    let mut long = value.clone();
    long["assertion"] = serde_json::json!({"lifetime_secs": 3600});
    let err = TokenClient::new(TokenConfig::from_value(long).unwrap()).unwrap_err();
    assert!(err.to_string().contains("assertion.lifetime_secs"), "{err}");
    let logged = log.0.lock().unwrap().clone();
    assert!(logged.contains("minted a token"), "{logged}");
    let seen = format!(
        "{} {c:?} {config:?} {config:#?} {profile:?} {creds:?} {creds:#?} {err} {err:?} {logged}",
        c.describe()
    );
    assert!(
        !seen.contains(secret) && !seen.contains(decoded),
        "the signing secret leaked:\n{seen}"
    );
    assert!(
        seen.contains("signing_secret: Some(Secret([redacted]))"),
        "{seen}"
    );
}

/// A transport with a bug: it panics mid-request.
struct Panicking;

#[async_trait::async_trait]
impl Transport for Panicking {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        panic!("transport bug");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_fetch_fails_every_waiter_instead_of_hanging() {
    let client = TokenClient::builder(config("s3cr3t-value"))
        .transport(Arc::new(Panicking))
        .clock(Arc::new(ManualClock::new(1_767_225_600_000)))
        .spawner(Arc::new(TokioSpawner::current_or_shared().unwrap()))
        .build()
        .unwrap();
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.token().await })
        })
        .collect();
    for w in waiters {
        let outcome = tokio::time::timeout(Duration::from_secs(5), w)
            .await
            .expect("a waiter hung")
            .expect("a waiter panicked");
        let err = outcome.expect_err("a panicking fetch cannot give a token");
        assert_eq!(err.kind(), tokenwell::ErrorKind::Internal);
        assert_eq!(err.code(), "internal");
    }
}

/// Python and JVM threads poll the shared fetch outside any tokio runtime: the
/// native transport must still do its I/O (on its runtime), for every caller.
#[test]
fn callers_outside_tokio_get_tokens_from_the_real_transport() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt
        .block_on(tokenwell::mock::MockServer::start(Default::default()))
        .unwrap();
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox",
        "client_id": "demo-client", "client_secret": "demo-secret-Zq81",
        "base_url": format!("{}/deliveroo", mock.url()),
    }))
    .unwrap();
    let client = TokenClient::new(config).unwrap(); // built outside a runtime
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let c = client.clone();
            std::thread::spawn(move || futures::executor::block_on(c.token()))
        })
        .collect();
    for t in threads {
        let token = t.join().expect("no panic").expect("a token");
        assert!(!token.secret().is_empty());
    }
    assert_eq!(mock.request_count(), 1);
    rt.block_on(mock.shutdown());
}

/// Clients share the process's connection pool: a second token request to the
/// same host, from a second client with other credentials, goes over the
/// connection the first kept alive instead of a new TCP and TLS handshake.
#[test]
fn clients_in_one_process_reuse_one_kept_alive_connection() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt
        .block_on(tokenwell::mock::MockServer::start(Default::default()))
        .unwrap();
    let fetch = |client_id: &str| {
        let config = TokenConfig::from_value(serde_json::json!({
            "provider": "custom", "token_url": format!("{}/custom/token", mock.url()),
            "client_id": client_id, "client_secret": "demo-secret-Zq81",
        }))
        .unwrap();
        let client = TokenClient::new(config).unwrap();
        futures::executor::block_on(client.token()).expect("a token");
    };
    fetch("merchant-1");
    fetch("merchant-2");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    assert_ne!(requests[0].connection, 0, "the mock numbers connections");
    assert_eq!(
        requests[0].connection, requests[1].connection,
        "the second request opened a new connection"
    );
    rt.block_on(mock.shutdown());
}

/// A spawner whose executor can "fork away": its generation changes, as the
/// native default's does in a forked child.
#[derive(Default)]
struct ForkingSpawner(std::sync::atomic::AtomicU64);

impl tokenwell::Spawn for ForkingSpawner {
    fn spawn(&self, task: tokenwell::BoxFuture<'static, ()>) {
        tokio::spawn(task);
    }
    fn generation(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_in_flight_at_fork_time_is_abandoned_not_awaited() {
    let transport = Arc::new(Scripted::default());
    transport.push_json(
        200,
        serde_json::json!({"access_token": "child", "expires_in": 300}),
    );
    let spawner = Arc::new(ForkingSpawner::default());
    let client = TokenClient::builder(config("s3cr3t-value"))
        .transport(transport.clone())
        .clock(Arc::new(ManualClock::new(1_767_225_600_000)))
        .spawner(spawner.clone())
        .build()
        .unwrap();
    // The parent's fetch never finishes: in a forked child its I/O task stayed
    // behind with the parent's runtime threads.
    *transport.delay.lock().unwrap() = Duration::from_secs(3600);
    let parent = client.clone();
    let stuck = tokio::spawn(async move { parent.token().await });
    // Wait for the parent's request to be in flight (slow under emulation).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while transport.count() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(transport.count(), 1);
    *transport.delay.lock().unwrap() = Duration::ZERO;
    spawner.0.fetch_add(1, Ordering::SeqCst); // fork()
                                              // In the child, callers start a fresh fetch instead of joining the dead one.
    let token = tokio::time::timeout(Duration::from_secs(5), client.token())
        .await
        .expect("the child's token() returns")
        .unwrap();
    assert_eq!(token.secret(), "child");
    assert_eq!(transport.count(), 2);
    tokio::time::timeout(Duration::from_secs(5), client.settle())
        .await
        .expect("settle() ignores the abandoned fetch");
    stuck.abort();
}

/// Tenants of one provider share one resolved profile (most of a client's
/// size: a thousand tenants are a thousand credentials, not a thousand
/// profiles); a client whose profile differs keeps its own. Sharing is with the
/// last client built, and other tests build clients concurrently: one round in
/// ten must share.
#[test]
fn clients_with_equal_profiles_share_one_profile() {
    let tenant = |id: &str, secret: &str, scope: Option<&str>| {
        let mut config = config(secret);
        config.client_id = id.into();
        config.scope = scope.map(str::to_owned);
        TokenClient::builder(config)
            .transport(Arc::new(Scripted::default()))
            .build()
            .unwrap()
    };
    let shared = (0..10).any(|_| {
        let a = tenant("tenant-a", "secret-a", None);
        let b = tenant("tenant-b", "secret-b", None);
        std::ptr::eq(a.profile(), b.profile())
    });
    assert!(shared, "equal profiles are shared");
    let a = tenant("tenant-a", "secret-a", None);
    let c = tenant("tenant-c", "secret-c", Some("orders"));
    assert!(!std::ptr::eq(a.profile(), c.profile()));
    assert_eq!(c.client_id(), "tenant-c");
    assert_ne!(a.cache_key(), c.cache_key());
}

#[test]
fn a_client_is_named_by_its_config_else_by_its_provider() {
    let named = |name: serde_json::Value| {
        TokenClient::new(
            TokenConfig::from_value(serde_json::json!({
                "provider": "deliveroo", "environment": "sandbox", "name": name,
                "client_id": "id", "client_secret": "s3cr3t-value"
            }))
            .unwrap(),
        )
    };
    assert_eq!(
        named(serde_json::json!("billing")).unwrap().name(),
        "billing"
    );
    assert_eq!(
        named(serde_json::Value::Null).unwrap().server_address(),
        "auth-sandbox.developers.deliveroo.com"
    );
    assert_eq!(named(serde_json::Value::Null).unwrap().name(), "deliveroo");
    for bad in [String::new(), "x".repeat(65), "a\tb".to_owned()] {
        let e = named(serde_json::json!(bad)).unwrap_err();
        assert_eq!(e.kind(), tokenwell::ErrorKind::Config, "{bad:?}");
        assert!(e.detail().starts_with("name must be"), "{e}");
    }
}

#[test]
fn a_manual_clock_without_a_time_starts_where_it_does_in_every_language() {
    let clock = ManualClock::default();
    assert_eq!(tokenwell::Clock::unix_ms(&clock), 1_767_225_600_000); // 2026-01-01T00:00:00Z
    assert_eq!(tokenwell::Clock::now_ms(&clock), 0);
    assert_eq!(ManualClock::DEFAULT_UNIX_MS, 1_767_225_600_000);
}
