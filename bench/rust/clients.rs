//! The thousandth client: what creating one more `TokenClient`
//! costs in time and heap, beside the baseline of what every client paid when
//! each built its own HTTP client (TLS configuration, system CA store,
//! connection pool), measured in the same run. Prints a markdown table.
//!
//! `cargo bench --bench clients` (outside `make test`; `bench/cold/run.sh` runs it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use tokenwell::{TokenClient, TokenConfig};

/// Counts the bytes live on the heap, so a client's share is exact, not RSS noise.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const CLIENTS: usize = 1_000;
const ROUNDS: usize = 7;

fn config(i: usize) -> TokenConfig {
    TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "token_url": "https://auth.example.com/oauth/token",
        "client_id": format!("merchant-{i}"), "client_secret": format!("secret-{i}-Zq81xV"),
    }))
    .unwrap()
}

/// µs and heap bytes per item for `CLIENTS` items made by `make`. The configs
/// are built before the clock starts but counted on the heap: a client consumes
/// its config, so what it keeps of it is part of its cost.
fn per_item<T>(make: &dyn Fn(TokenConfig) -> T) -> (f64, f64) {
    let mut kept = Vec::with_capacity(CLIENTS);
    let heap = LIVE.load(Ordering::Relaxed);
    let configs: Vec<_> = (0..CLIENTS).map(config).collect();
    let start = Instant::now();
    for c in configs {
        kept.push(make(c));
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes = LIVE.load(Ordering::Relaxed) - heap;
    drop(kept);
    (secs * 1e6 / CLIENTS as f64, bytes as f64 / CLIENTS as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` (criterion's convention): nothing to list.
    }
    // Warm both paths (the process's runtime and shared HTTP client, the CA store).
    TokenClient::new(config(0)).unwrap();
    reqwest::Client::builder().build().unwrap();
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        // Interleaved, so drift on a shared machine hits both sides alike.
        ours.push(per_item(&|c| TokenClient::new(c).unwrap()));
        base.push(per_item(&|c| {
            // What a client cost before the shared transport: the client plus
            // its own reqwest client (TLS configuration, CA store, pool).
            (
                TokenClient::new(c).unwrap(),
                reqwest::Client::builder().build().unwrap(),
            )
        }));
    }
    let (t, b) = (
        median(ours.iter().map(|x| x.0).collect()),
        median(ours.iter().map(|x| x.1).collect()),
    );
    let (bt, bb) = (
        median(base.iter().map(|x| x.0).collect()),
        median(base.iter().map(|x| x.1).collect()),
    );
    println!("| Rust: one more client ({CLIENTS} in a process, median of {ROUNDS}) | tokenwell | own HTTP client each (before) | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| time per client | {t:.1} µs | {bt:.1} µs | {:.3} |",
        t / bt
    );
    println!(
        "| heap per client | {:.2} KiB | {:.2} KiB | {:.3} |",
        b / 1024.0,
        bb / 1024.0,
        b / bb
    );
}
