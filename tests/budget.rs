//! The request budget against a real `redis-server`: clients with separate
//! memories (each its own `TokenClient` and its own Redis connection) share one
//! budget through the store, counted at the mock provider.
//!
//! Without `redis-server` on the machine the tests skip with a message, unless
//! `CI` is set: then they fail.
#![cfg(all(not(target_arch = "wasm32"), feature = "mock"))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokenwell::mock::{MockOptions, MockServer};
use tokenwell::{ErrorKind, ManualClock, TokenClient, TokenConfig};

#[path = "common/redis_servers.rs"]
mod servers;

use servers::{free_port, temp_dir, Node};

/// A plain `redis-server` on a free loopback port, answering; `None` (skip)
/// without one.
fn redis() -> Option<Node> {
    let server = servers::redis_binary("redis-server")?;
    let port = free_port();
    let dir = temp_dir("budget");
    let args: Vec<String> = [
        server.to_str().unwrap(),
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir.to_str().unwrap(),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let mut node = Node::spawn(args, port);
    node.keep_dir(dir);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(mut conn) = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .and_then(|c| c.get_connection())
        {
            if redis::cmd("PING").query::<String>(&mut conn).is_ok() {
                return Some(node);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server does not answer");
}

fn config(mock: &MockServer, redis_port: u16, budget: u32) -> TokenConfig {
    TokenConfig::from_value(serde_json::json!({
        "provider": "custom",
        "client_id": "demo-client",
        "client_secret": "demo-secret-Zq81",
        "token_url": format!("{}/custom/token", mock.url()),
        "policy": {"max_requests_per_hour": budget},
        "store": {"redis_url": format!("redis://127.0.0.1:{redis_port}")},
    }))
    .unwrap()
}

/// The budget's proof: 20 clients with separate memories fetch, then each
/// invalidates its token as after a 401, in a loop, for 60 s of manual time.
/// A budget of 2 per hour: at most 2 token requests reach the mock, and no
/// call fails while a token is valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_clients_invalidating_in_a_loop_stay_within_two_requests_an_hour() {
    let Some(node) = redis() else { return };
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    mock.set_lifetime_secs(Some(3600));
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let clients: Vec<TokenClient> = (0..20)
        .map(|_| {
            TokenClient::builder(config(&mock, node.port, 2))
                .clock(clock.clone())
                .build()
                .unwrap()
        })
        .collect();
    let started = Instant::now();
    let mut calls = 0;
    for second in 0..60 {
        // Every client asks at once, then every client's API call answers 401.
        let tokens = futures::future::join_all(clients.iter().map(|c| c.token())).await;
        for (client, token) in clients.iter().zip(tokens) {
            let token = token.unwrap_or_else(|e| {
                panic!("second {second}: a caller failed while a token is valid: {e}")
            });
            calls += 1;
            client.invalidate(token.secret());
        }
        for client in &clients {
            client.settle().await;
        }
        clock.advance(1_000);
    }
    let requests = mock.request_count();
    println!(
        "{calls} token calls of 20 clients over 60 s of manual time: {requests} token requests \
         at the mock ({} ms real)",
        started.elapsed().as_millis()
    );
    assert!(requests <= 2, "{requests} token requests");
    assert_eq!(requests, 2, "the budget's two requests were used");
    drop(clients);
    mock.shutdown().await;
}

/// Without the store (down, or never configured) each client keeps its own
/// budget: a spent one fails fast with rate_limited, the wait computed locally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_store_down_each_client_keeps_its_own_budget() {
    let Some(mut node) = redis() else { return };
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    mock.set_lifetime_secs(Some(3600));
    let port = node.port;
    node.kill();
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let client = TokenClient::builder(config(&mock, port, 1))
        .clock(clock.clone())
        .build()
        .unwrap();
    let token = client.token().await.expect("the store's failure is a miss");
    client.invalidate(token.secret());
    // The invalidated token is still usable: served again, no request sent.
    let again = client.token().await.unwrap();
    assert_eq!(again.secret(), token.secret());
    client.invalidate(again.secret());
    clock.advance(3_600_000 - 1);
    let e = client.token().await.unwrap_err();
    assert_eq!(
        (e.kind(), e.status(), e.retry_after_ms()),
        (ErrorKind::RateLimited, None, Some(1))
    );
    assert!(e.detail().contains("in this process"), "{e}");
    assert_eq!(mock.request_count(), 1);
    mock.shutdown().await;
}
