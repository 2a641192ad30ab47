//! The hot path: a cache hit, next to the floor of a mutex-guarded map lookup
//! plus a clock read (the least any cache can do), measured in the same run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use futures::FutureExt;
use tokenwell::request::HttpRequest;
use tokenwell::response::HttpResponse;
use tokenwell::{Result, SystemClock, TokenClient, TokenConfig, Transport};

struct Fixed;

#[async_trait::async_trait]
impl Transport for Fixed {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse> {
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: br#"{"access_token":"bench-token","expires_in":86400}"#.to_vec(),
        })
    }
}

fn warm_client() -> TokenClient {
    let config = TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox", "client_id": "bench", "client_secret": "bench-secret"
    }))
    .unwrap();
    let client = TokenClient::builder(config)
        .transport(Arc::new(Fixed))
        .clock(Arc::new(SystemClock))
        .build()
        .unwrap();
    futures::executor::block_on(async {
        client.token().await.unwrap();
        client.settle().await;
    });
    client
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let client = warm_client();
    let mut group = c.benchmark_group("cache_hit");
    group.bench_function("floor: Mutex<HashMap> + Instant::now", |b| {
        let map = Mutex::new(HashMap::from([(
            "key".to_owned(),
            (Instant::now(), Arc::<str>::from("Bearer x")),
        )]));
        b.iter(|| {
            let now = Instant::now();
            let guard = map.lock().unwrap();
            let (at, header) = guard.get("key").unwrap();
            assert!(*at <= now);
            header.clone()
        })
    });
    group.bench_function("token()", |b| {
        b.iter(|| client.token().now_or_never().unwrap().unwrap())
    });
    group.bench_function("token().authorization_header()", |b| {
        b.iter(|| {
            client
                .token()
                .now_or_never()
                .unwrap()
                .unwrap()
                .authorization_header()
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
