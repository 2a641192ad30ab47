//! Events and health on the console, against the embedded mock provider:
//! `cargo run --example observe --features mock`. Rust gets no OpenTelemetry
//! crate: feed your own metrics from an `EventSink` and `status()`.

use std::sync::Arc;

use tokenwell::mock::MockServer;
use tokenwell::{Event, TokenClient, TokenConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start(Default::default()).await?;
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox", "name": "deliveroo-orders",
        "client_id": "demo-client", "client_secret": "demo-secret-Zq81",
        "base_url": format!("{}/deliveroo", mock.url()),
    }))?;
    // Called on the thread that emits: cheap work only (hits come on every call).
    let print = |event: &Event| {
        match event {
        Event::Hit { .. } | Event::Miss { .. } => {}
        Event::Fetched {
            reason,
            latency_ms,
            status,
            lifetime_ms,
            ..
        } => println!(
            "fetched: reason={} status={status:?} latency={latency_ms} ms lifetime={lifetime_ms} ms",
            reason.code()
        ),
        other => println!("{}", other.name()),
    }
    };
    let client = TokenClient::builder(config)
        .on_event(Arc::new(print))
        .build()?;
    client.token().await?;
    client.token().await?; // a hit: counted by your sink, not printed
    let status = client.status();
    println!(
        "status: {} healthy={} token expires in {:?} ms",
        status.health.code(),
        status.health.is_healthy(),
        status.token_expires_in_ms
    );
    mock.shutdown().await;
    Ok(())
}
