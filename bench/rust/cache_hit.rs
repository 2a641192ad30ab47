//! The hot path: a cache hit, next to the floor of a mutex-guarded map lookup
//! plus a clock read (the least any cache can do), measured in the same run.
//! With `redis-server` on the PATH, also a hit on a client whose config has
//! `store.redis_url` (a hit never touches Redis), as a ratio to the same hit
//! without a store.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use futures::FutureExt;
use tokenwell::HttpRequest;
use tokenwell::HttpResponse;
use tokenwell::{Event, EventSink, Result, SystemClock, TokenClient, TokenConfig, Transport};

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

/// What a metrics sink does per event: count it (hits on every call).
#[derive(Default)]
struct Counting {
    hits: std::sync::atomic::AtomicU64,
    others: std::sync::atomic::AtomicU64,
}

impl EventSink for Counting {
    fn on_event(&self, event: &Event) {
        let counter = match event {
            Event::Hit { .. } => &self.hits,
            _ => &self.others,
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn warm_client(redis_url: Option<&str>) -> TokenClient {
    warm_client_with(redis_url, None)
}

fn warm_client_with(redis_url: Option<&str>, events: Option<Arc<dyn EventSink>>) -> TokenClient {
    let mut config = serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox", "client_id": "bench", "client_secret": "bench-secret"
    });
    if let Some(url) = redis_url {
        config["store"] = serde_json::json!({ "redis_url": url });
    }
    warm_client_from(config, events)
}

fn warm_client_from(config: serde_json::Value, events: Option<Arc<dyn EventSink>>) -> TokenClient {
    let config = TokenConfig::from_value(config).unwrap();
    let mut builder = TokenClient::builder(config)
        .transport(Arc::new(Fixed))
        .clock(Arc::new(SystemClock));
    if let Some(events) = events {
        builder = builder.on_event(events);
    }
    let client = builder.build().unwrap();
    futures::executor::block_on(async {
        client.token().await.unwrap();
        client.settle().await;
    });
    client
}

/// A throwaway redis-server on a free loopback port, if one is on the PATH.
fn start_redis() -> Option<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((child, format!("redis://127.0.0.1:{port}/0")))
}

/// ns per cached `token()`, the best of several rounds.
fn hit_ns(client: &TokenClient) -> f64 {
    const CALLS: u32 = 1_000_000;
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                std::hint::black_box(client.token().now_or_never().unwrap().unwrap());
            }
            start.elapsed().as_nanos() as f64 / f64::from(CALLS)
        })
        .fold(f64::INFINITY, f64::min)
}

/// Calls per second of `call` on `threads` threads at once, `calls` each.
fn per_sec(threads: usize, calls: u32, call: &(dyn Fn() + Sync)) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| (0..calls).for_each(|_| call()));
        }
    });
    threads as f64 * f64::from(calls) / start.elapsed().as_secs_f64()
}

/// How `call`'s throughput on 2 threads compares to 1 (best of 3 rounds each).
fn two_threads_over_one(call: &(dyn Fn() + Sync)) -> (f64, f64) {
    const CALLS: u32 = 2_000_000;
    let (mut one, mut two) = (0f64, 0f64);
    for _ in 0..3 {
        one = one.max(per_sec(1, CALLS, call));
        two = two.max(per_sec(2, CALLS, call));
    }
    (one, two / one)
}

/// Whether a hit scales with threads (no exclusive lock on a hit),
/// beside a control that shares nothing (reading the clock): if the control
/// does not reach 2x, the machine was not giving the bench two cores.
fn scaling(client: &TokenClient) {
    let (control_rate, control) = two_threads_over_one(&|| {
        std::hint::black_box(Instant::now());
    });
    let (rate, hits) = two_threads_over_one(&|| {
        std::hint::black_box(client.token().now_or_never().unwrap().unwrap());
    });
    let (peek_rate, peeks) = two_threads_over_one(&|| {
        std::hint::black_box(client.peek(|t| t.authorization_header().len()).unwrap());
    });
    println!(
        "cache_hit: 2 threads / 1: token() {hits:.2}x ({:.1} M hits/s on one), \
         peek() {peeks:.2}x ({:.1} M/s on one; goal >= 1.5x), \
         control Instant::now() {control:.2}x ({:.1} M/s on one)",
        rate / 1e6,
        peek_rate / 1e6,
        control_rate / 1e6
    );
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let client = warm_client(None);
    let redis = start_redis();
    let stored = redis.as_ref().map(|(_, url)| warm_client(Some(url)));
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
    group.bench_function("peek(authorization_header)", |b| {
        b.iter(|| client.peek(|t| t.authorization_header().len()).unwrap())
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
    if let Some(stored) = &stored {
        group.bench_function("token() with store.redis_url", |b| {
            b.iter(|| stored.token().now_or_never().unwrap().unwrap())
        });
    }
    group.finish();
    scaling(&client);
    // Events on: a counting sink, as metrics would have. Interleaved rounds.
    let observed = warm_client_with(None, Some(Arc::new(Counting::default())));
    let (mut off, mut on) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        off = off.min(hit_ns(&client));
        on = on.min(hit_ns(&observed));
    }
    println!(
        "cache_hit: token() {off:.1} ns without events, {on:.1} ns with a counting event sink: \
         {:.3}x (goal <= 1.1x)",
        on / off
    );
    // The secret from a file that may rotate: a hit never looks at it.
    let dir = std::env::temp_dir().join(format!("tokenwell-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("client-secret");
    std::fs::write(&secret_file, "bench-secret\n").unwrap();
    let rotating = warm_client_from(
        serde_json::json!({
            "provider": "deliveroo", "environment": "sandbox", "client_id": "bench",
            "client_secret_file": secret_file.to_str().unwrap()
        }),
        None,
    );
    let stats = rotating.credential_file_stats();
    let (mut inline, mut file) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        inline = inline.min(hit_ns(&client));
        file = file.min(hit_ns(&rotating));
    }
    assert_eq!(
        rotating.credential_file_stats(),
        stats,
        "a hit never stats the file"
    );
    println!(
        "cache_hit: token() {inline:.1} ns with client_secret, {file:.1} ns with a rotating \
         client_secret_file: {:.3}x (goal ~1.0x)",
        file / inline
    );
    let _ = std::fs::remove_dir_all(&dir);
    match (&stored, redis) {
        (Some(stored), Some((mut child, _))) => {
            // Interleaved, so noise from the machine hits both alike.
            let (mut without, mut with) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..3 {
                without = without.min(hit_ns(&client));
                with = with.min(hit_ns(stored));
            }
            println!(
                "cache_hit: token() {without:.1} ns without a store, {with:.1} ns with \
                 store.redis_url: {:.3}x (goal <= 1.05x)",
                with / without
            );
            let _ = child.kill();
            let _ = child.wait();
        }
        _ => println!("cache_hit: redis-server not on the PATH: no figure with a store"),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
