//! The WebAssembly build in a real JS engine (Node, through
//! wasm-bindgen-test-runner): the runtime's `URL` behind the HTTPS rule, the
//! cache's single-flight on the microtask queue with the default spawner, and
//! the platform's timers and randomness.
//! Run by `make test` as `cargo test --target wasm32-unknown-unknown --test wasm`.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::sync::Arc;

use tokenwell::HttpRequest;
use tokenwell::HttpResponse;
use tokenwell::{ErrorKind, ManualClock, Result, TokenClient, TokenConfig, Transport};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn build(token_url: &str) -> Result<TokenClient> {
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "token_url": token_url,
        "client_id": "wasm-client", "client_secret": "wasm-secret-42",
    }))?;
    TokenClient::new(config)
}

#[wasm_bindgen_test]
fn the_https_rule_reads_urls_as_the_runtime_parses_them() {
    for ok in [
        "https://auth.example.com/token",
        "HTTPS://AUTH.EXAMPLE.COM/token",
        "http://localhost:9/token",
        "http://127.0.0.1:9/token",
        "http://[::1]:9/token",
    ] {
        assert!(build(ok).is_ok(), "{ok} should be accepted");
    }
    for refused in [
        "http://auth.example.com/token",
        "http://127.0.0.1.example.com/token",
        "https://user:pass@auth.example.com/token",
        "auth.example.com/token",
        "ftp://auth.example.com/token",
    ] {
        let err = build(refused).expect_err(refused);
        assert_eq!(err.kind(), ErrorKind::Config, "{refused}");
        assert!(!err.to_string().contains("wasm-secret-42"));
    }
}

/// Answers every request with a fresh token after yielding to the event loop a
/// few times, so that concurrent callers pile up behind the first.
#[derive(Default)]
struct Slow {
    sent: Cell<usize>,
}

#[async_trait::async_trait(?Send)]
impl Transport for Slow {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse> {
        self.sent.set(self.sent.get() + 1);
        for _ in 0..5 {
            let tick = js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL);
            JsFuture::from(tick).await.expect("a resolved promise");
        }
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!(
                r#"{{"access_token":"wasm-token-{}","expires_in":300}}"#,
                self.sent.get()
            )
            .into_bytes(),
        })
    }
}

#[wasm_bindgen_test]
async fn concurrent_callers_share_one_fetch_on_the_microtask_queue() {
    let transport = Arc::new(Slow::default());
    let client = TokenClient::builder(
        TokenConfig::from_value(serde_json::json!({
            "provider": "deliveroo", "environment": "sandbox",
            "client_id": "wasm-client", "client_secret": "wasm-secret-42",
        }))
        .unwrap(),
    )
    .transport(transport.clone())
    .clock(Arc::new(ManualClock::new(1_767_225_600_000)))
    .build()
    .unwrap();

    let calls = (0..100).map(|_| client.token());
    let tokens = futures::future::join_all(calls).await;
    assert_eq!(transport.sent.get(), 1);
    for token in tokens {
        assert_eq!(token.expect("a token").secret(), "wasm-token-1");
    }
    // A hit answers from the cache.
    assert_eq!(client.token().await.unwrap().secret(), "wasm-token-1");
    assert_eq!(transport.sent.get(), 1);
}

#[wasm_bindgen_test]
async fn the_platform_sleeps_time_boxes_and_draws_randomness_from_the_runtime() {
    use tokenwell::platform::{time_boxed, Host, Platform};
    let started = js_sys::Date::now();
    assert_eq!(time_boxed(20, Host::sleep(5_000)).await, None);
    let waited = js_sys::Date::now() - started;
    assert!((15.0..2_000.0).contains(&waited), "waited {waited} ms");
    assert_eq!(time_boxed(5_000, async { 7 }).await, Some(7));
    let draws: std::collections::HashSet<u64> = (0..64).map(|_| Host::random_u64()).collect();
    assert_eq!(draws.len(), 64, "crypto.getRandomValues gives fresh values");
}
