//! The redactor's cost on a client's first error (building it, then scrubbing
//! an error text), by secret size: it must grow linearly. Plain timings, best
//! of three; run with `cargo bench --bench redact`.

use std::time::{Duration, Instant};

use tokenwell::redact::Redactor;

/// A printable secret of `len` bytes, pseudo-random (or one repeated byte).
fn secret(len: usize, repeated: bool) -> String {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            if repeated {
                return 'a';
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 94) as u8)
        })
        .collect()
}

fn first_error(secret: &str) -> Duration {
    // A server's error body echoing a cut of the secret, as the core scrubs it.
    let text = format!(
        "{{\"error\":\"invalid_client\",\"error_description\":\"bad secret {}\"}} {}",
        &secret[..secret.len() / 2],
        "x".repeat(1024)
    );
    (0..3)
        .map(|_| {
            let started = Instant::now();
            let scrubbed = Redactor::new("bench-client", secret).scrub(&text);
            std::hint::black_box(scrubbed);
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    for repeated in [false, true] {
        for kib in [1, 4, 16, 64] {
            let s = secret(kib * 1024, repeated);
            let kind = if repeated {
                "one byte repeated"
            } else {
                "random"
            };
            println!(
                "redact: {kib:>3} KiB secret ({kind}): first error {:>10.3} ms",
                first_error(&s).as_secs_f64() * 1e3
            );
        }
    }
}
