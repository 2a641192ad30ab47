//! The token endpoint from an issuer's metadata: one read however many callers
//! wait, reused for `discovery_ttl_secs`, refreshed in the background, kept
//! when a refresh fails; typed errors when the first read fails. A routing
//! transport on a manual clock, then the mock through real sockets.

// The shared log capture (the rest of `common` serves other suites).
#[allow(dead_code)]
mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Semaphore;

use tokenwell::native::TokioSpawner;
use tokenwell::request::HttpRequest;
use tokenwell::response::HttpResponse;
use tokenwell::{ErrorKind, ManualClock, MemoryStore, Result, TokenClient, TokenConfig, Transport};

const ISSUER: &str = "https://id.example/realms/acme";
const OIDC_URL: &str = "https://id.example/realms/acme/.well-known/openid-configuration";

fn install_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(common::CaptureLog::install);
}

fn http(status: u16, body: Value) -> Result<HttpResponse> {
    Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    })
}

fn metadata(endpoint: &str) -> Value {
    json!({
        "issuer": ISSUER,
        "token_endpoint": endpoint,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
    })
}

/// Metadata GETs answered from a queue (else the last answer again), behind a
/// gate once `gate` is set; token POSTs answered with a fresh token, recorded.
#[derive(Default)]
struct Routing {
    metadata: Mutex<VecDeque<Result<HttpResponse>>>,
    last_metadata: Mutex<Option<Result<HttpResponse>>>,
    gate: Mutex<Option<Arc<Semaphore>>>,
    gets: Mutex<Vec<HttpRequest>>,
    posts: Mutex<Vec<String>>,
    tokens: AtomicUsize,
}

impl Routing {
    fn with_metadata(answer: Result<HttpResponse>) -> Arc<Self> {
        let routing = Arc::new(Routing::default());
        routing.metadata.lock().unwrap().push_back(answer);
        routing
    }
    fn gets(&self) -> usize {
        self.gets.lock().unwrap().len()
    }
    fn posts(&self) -> Vec<String> {
        self.posts.lock().unwrap().clone()
    }
    /// Holds every later metadata answer until the returned gate gets a permit.
    fn close_gate(&self) -> Arc<Semaphore> {
        let gate = Arc::new(Semaphore::new(0));
        *self.gate.lock().unwrap() = Some(gate.clone());
        gate
    }
}

#[async_trait::async_trait]
impl Transport for Routing {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        if request.method == "GET" {
            self.gets.lock().unwrap().push(request.clone());
            let gate = self.gate.lock().unwrap().clone();
            if let Some(gate) = gate {
                gate.acquire().await.unwrap().forget();
            }
            // Every caller arrives before the answer (a single flight shows).
            tokio::time::sleep(Duration::from_millis(20)).await;
            let next = self.metadata.lock().unwrap().pop_front();
            let answer = match next {
                Some(answer) => {
                    *self.last_metadata.lock().unwrap() = Some(answer.clone());
                    answer
                }
                None => self.last_metadata.lock().unwrap().clone().unwrap(),
            };
            return answer;
        }
        self.posts.lock().unwrap().push(request.url.clone());
        let n = self.tokens.fetch_add(1, Ordering::SeqCst);
        http(
            200,
            json!({"access_token": format!("t{n}"), "expires_in": 3600}),
        )
    }
}

/// Polls `done` for up to 5 s.
async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out");
}

fn config(extra: Value) -> TokenConfig {
    let mut config = json!({
        "provider": "custom", "issuer": ISSUER,
        "client_id": "client-1", "client_secret": "s3cr3t-value", "credentials": "basic",
    });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    TokenConfig::from_value(config).unwrap()
}

fn client(config: TokenConfig, transport: Arc<Routing>, clock: Arc<ManualClock>) -> TokenClient {
    TokenClient::builder(config)
        .transport(transport)
        .clock(clock)
        .spawner(Arc::new(TokioSpawner::current_or_shared().unwrap()))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_first_callers_cause_one_metadata_get_without_a_body() {
    let transport = Routing::with_metadata(http(200, metadata("https://id.example/token")));
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let c = client(config(json!({})), transport.clone(), clock);
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.token().await.map(|t| t.secret().to_owned()) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "t0");
    }
    assert_eq!(transport.gets(), 1);
    assert_eq!(transport.posts(), ["https://id.example/token"]);
    let get = transport.gets.lock().unwrap()[0].clone();
    assert_eq!(get.url, OIDC_URL);
    assert!(get.body.is_empty());
    assert!(!get.headers.iter().any(|(k, _)| k == "content-type"));
    // The cache key names the issuer, not the endpoint its metadata gave.
    let direct = TokenConfig::from_value(json!({
        "provider": "custom", "token_url": ISSUER,
        "client_id": "client-1", "client_secret": "s3cr3t-value", "credentials": "basic",
    }))
    .unwrap();
    assert_eq!(TokenClient::new(direct).unwrap().cache_key(), c.cache_key());
    assert!(
        c.describe().contains(&format!("issuer={ISSUER},")),
        "{}",
        c.describe()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_ttl_the_metadata_is_read_again_in_the_background() {
    install_log();
    let transport = Routing::with_metadata(http(200, metadata("https://id.example/token")));
    transport
        .metadata
        .lock()
        .unwrap()
        .push_back(http(200, metadata("https://id.example/token2")));
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let c = client(
        config(json!({"discovery_ttl_secs": 7200})),
        transport.clone(),
        clock.clone(),
    );
    let key = c.cache_key().clone();
    c.token().await.unwrap();
    // Within the TTL: the next token (the first expired) reuses the endpoint.
    clock.advance(3_600_000);
    assert_eq!(c.token().await.unwrap().secret(), "t1");
    assert_eq!(transport.gets(), 1);

    // Past it: the token is fetched from the endpoint at hand, without
    // waiting for the metadata, which is read in the background.
    clock.advance(3_600_000);
    let gate = transport.close_gate();
    let token = tokio::time::timeout(Duration::from_secs(5), c.token()).await;
    assert_eq!(
        token
            .expect("token() waited for the refresh")
            .unwrap()
            .secret(),
        "t2"
    );
    assert_eq!(transport.posts()[2], "https://id.example/token");
    wait_for(|| transport.gets() == 2).await;
    // A token fetch while the refresh is in flight starts no second read.
    assert!(c.invalidate("t2"));
    assert_eq!(c.token().await.unwrap().secret(), "t3");
    assert_eq!(transport.gets(), 2);
    gate.add_permits(1);
    // Once the refresh lands, fetches go to the new endpoint.
    for _ in 0..500 {
        let token = c.token().await.unwrap();
        if transport.posts().last().unwrap() == "https://id.example/token2" {
            break;
        }
        c.invalidate(token.secret());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        transport.posts().last().unwrap(),
        "https://id.example/token2"
    );
    assert_eq!(transport.gets(), 2);
    assert_eq!(c.cache_key(), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_keeps_the_endpoint_and_warns() {
    install_log();
    let transport = Routing::with_metadata(http(200, metadata("https://id.example/kept")));
    transport
        .metadata
        .lock()
        .unwrap()
        .push_back(http(503, json!({"error": "temporarily_unavailable"})));
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let c = client(
        config(json!({"discovery_ttl_secs": 60})),
        transport.clone(),
        clock.clone(),
    );
    c.token().await.unwrap();
    for round in 0..2 {
        clock.advance(3_600_000);
        c.token().await.unwrap();
        c.settle().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            transport.gets(),
            2 + round,
            "one refresh per token fetch past the TTL"
        );
    }
    assert!(transport
        .posts()
        .iter()
        .all(|url| url == "https://id.example/kept"));
    assert!(c.status().last_error.is_none());
    let warned = common::LOGS.lines().iter().any(|l| {
        l.starts_with("WARN")
            && l.contains("could not refresh the issuer's metadata (server_error)")
    });
    assert!(warned, "{:?}", common::LOGS.lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_read_failures_are_typed_errors() {
    let foreign =
        json!({"issuer": "https://evil.example", "token_endpoint": "https://evil.example/t"});
    let not_listed = json!({
        "issuer": ISSUER, "token_endpoint": "https://id.example/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
    });
    let insecure = json!({"issuer": ISSUER, "token_endpoint": "http://id.example/token"});
    for (answer, kind, words) in [
        (http(200, foreign), ErrorKind::Config, "must be equal"),
        (
            http(200, not_listed),
            ErrorKind::Config,
            "client_secret_basic is not among the issuer's token endpoint auth methods [client_secret_post, private_key_jwt]",
        ),
        (http(200, insecure), ErrorKind::Config, "token_endpoint: token URL must use https"),
        (http(200, json!("<html>")), ErrorKind::MalformedResponse, "metadata"),
        (http(500, json!({})), ErrorKind::ServerError, "could not be read"),
        (
            Err(tokenwell::Error::new(ErrorKind::Timeout, "slow")),
            ErrorKind::Timeout,
            "slow",
        ),
    ] {
        let transport = Routing::with_metadata(answer);
        let c = client(config(json!({})), transport.clone(), Arc::new(ManualClock::new(0)));
        let e = c.token().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.detail().contains(words), "{}", e.detail());
        assert!(transport.posts().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_the_fleet_store_needs_no_metadata() {
    let store = Arc::new(MemoryStore::new());
    let build = |transport: Arc<Routing>| {
        TokenClient::builder(config(json!({})))
            .transport(transport)
            .store(store.clone())
            .spawner(Arc::new(TokioSpawner::current_or_shared().unwrap()))
            .build()
            .unwrap()
    };
    let first = Routing::with_metadata(http(200, metadata("https://id.example/token")));
    let token = build(first.clone()).token().await.unwrap();
    let second = Routing::with_metadata(http(500, json!({})));
    let adopted = build(second.clone()).token().await.unwrap();
    assert_eq!(adopted.secret(), token.secret());
    assert_eq!((first.gets(), second.gets()), (1, 0));
    assert!(second.posts().is_empty());
}

#[test]
fn discovery_keys_are_checked() {
    let build = |extra: Value| {
        let mut v = json!({"provider": "custom", "client_id": "i", "client_secret": "s"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        TokenConfig::from_value(v).and_then(|c| TokenClient::new(c).map(|_| ()))
    };
    build(json!({"issuer": "https://login.microsoftonline.com/tenant/v2.0"})).unwrap();
    build(json!({"issuer": "http://127.0.0.1:8080/realms/a", "discoveryTtlSecs": 1})).unwrap();
    for (extra, words) in [
        (
            json!({"issuer": ISSUER, "token_url": "https://id.example/t"}),
            "issuer and token_url exclude each other",
        ),
        (
            json!({"issuer": ISSUER, "base_url": "https://id.example"}),
            "issuer and base_url exclude each other",
        ),
        (
            json!({"issuer": "http://id.example/a"}),
            "issuer: token URL must use https",
        ),
        (
            json!({"issuer": "https://id.example/a?x=1"}),
            "issuer must be an absolute URL",
        ),
        (json!({"issuer": "id.example/a"}), "issuer"),
        (
            json!({"issuer": ISSUER, "discovery_ttl_secs": 0}),
            "discovery_ttl_secs",
        ),
        (
            json!({"issuer": ISSUER, "discovery_ttl_secs": 1.5}),
            "discovery_ttl_secs",
        ),
        (
            json!({"issuer": ISSUER, "discovery_ttl_secs": -1}),
            "discovery_ttl_secs",
        ),
        (
            json!({"issuer": ISSUER, "discovery_ttl_secs": "60"}),
            "discovery_ttl_secs",
        ),
        (
            json!({"token_url": "https://id.example/t", "discovery_ttl_secs": 60}),
            "discovery_ttl_secs needs issuer",
        ),
    ] {
        let e = build(extra.clone()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{extra}");
        assert!(e.detail().contains(words), "{extra}: {}", e.detail());
    }
}

#[cfg(feature = "mock")]
mod against_the_mock {
    use super::*;
    use tokenwell::mock::{MockOptions, MockServer};

    fn mock_client(issuer: String, credentials: &str) -> TokenClient {
        TokenClient::new(
            TokenConfig::from_value(json!({
                "provider": "custom", "issuer": issuer, "credentials": credentials,
                "client_id": "client-1", "client_secret": "s3cr3t-value",
            }))
            .unwrap(),
        )
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_mock_serves_both_forms_and_its_failure_devices() {
        let mock = MockServer::start(MockOptions::default()).await.unwrap();
        let base = mock.url();

        let c = mock_client(format!("{base}/custom"), "basic");
        c.token().await.unwrap();
        assert_eq!(
            mock.metadata_requests(),
            ["/custom/.well-known/openid-configuration"]
        );
        assert_eq!(mock.requests()[0].path, "/custom/token");

        // A 404 at the OpenID Connect path: the RFC 8414 path.
        mock.reset();
        let c = mock_client(format!("{base}/discovery/rfc8414"), "body");
        c.token().await.unwrap();
        assert_eq!(
            mock.metadata_requests(),
            [
                "/discovery/rfc8414/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server/discovery/rfc8414",
            ]
        );

        // A provider's own issuer.
        let c = mock_client(format!("{base}/deliveroo"), "basic");
        c.token().await.unwrap();

        for (device, credentials, kind) in [
            ("foreign", "basic", ErrorKind::Config),
            ("post-only", "basic", ErrorKind::Config),
            ("no-methods", "body", ErrorKind::Config),
            ("down", "basic", ErrorKind::ServerError),
        ] {
            let c = mock_client(format!("{base}/discovery/{device}"), credentials);
            let e = c.token().await.unwrap_err();
            assert_eq!(e.kind(), kind, "{device}: {e}");
        }
        mock_client(format!("{base}/discovery/no-methods"), "basic")
            .token()
            .await
            .unwrap();

        // Connection refused.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let e = mock_client(format!("http://{closed}/realm"), "basic")
            .token()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{e}");
        mock.shutdown().await;
    }
}
