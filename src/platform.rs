//! The seam between the sans-IO core and the machine it runs on.
//!
//! The core decides; a platform only executes. Everything the core needs from
//! outside itself is one method of [`Platform`], and each target has exactly one
//! implementation: [`crate::native::Native`] (reqwest, tokio, the OS) and
//! `crate::wasm::Wasm` (the JS runtime's `fetch`, `URL`, `performance`,
//! `setTimeout` and `crypto`). Core modules name only [`Host`], never an arm.

use std::sync::Arc;

use crate::config::{AssertionAlgorithm, HttpOptions, StoreOptions};
use crate::error::Result;
use crate::runtime::{BoxFuture, Spawn};
use crate::secret::Secret;
use crate::store::Store;
use crate::transport::Transport;

/// What the core needs from the machine it runs on.
pub trait Platform {
    /// Reads an absolute URL as the platform's WHATWG parser does (the HTTPS
    /// rule must see the host exactly as the transport will).
    fn parse_url(raw: &str) -> std::result::Result<UrlParts, String>;

    /// Monotonic milliseconds from an arbitrary origin; never goes backwards.
    fn monotonic_ms() -> u64;

    /// Wall-clock Unix milliseconds.
    fn unix_ms() -> i64;

    /// The transport a client uses unless one is injected.
    fn default_transport(http: &HttpOptions) -> Result<Arc<dyn Transport>>;

    /// The spawner a client uses unless one is injected.
    fn default_spawner() -> Result<Arc<dyn Spawn>>;

    /// The store a config's `store.redis_url` names (natively a Redis client;
    /// in WebAssembly a `config` error pointing at the JS stores).
    fn redis_store(options: &StoreOptions, redis_url: &Secret) -> Result<Arc<dyn Store>>;

    /// Resolves after `ms` milliseconds, from any executor (polling, time boxes).
    fn sleep(ms: u64) -> BoxFuture<'static, ()>;

    /// 64 unpredictable bits from the operating system (or the runtime's
    /// `crypto`): lock owner ids, nonces and jitter. Drawn fresh on every call, so
    /// workers forked from one parent never share a sequence.
    fn random_u64() -> u64;

    /// AES-256-GCM of `plaintext` (ciphertext and tag) under the key
    /// HKDF-SHA256(ikm, salt = the record format's, info), with `nonce` and
    /// `aad`. Natively RustCrypto, in WebAssembly the runtime's WebCrypto.
    fn seal(
        ikm: Vec<u8>,
        info: Vec<u8>,
        nonce: [u8; 12],
        aad: Vec<u8>,
        plaintext: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>>;

    /// The signature of a client assertion's signing input `message` under
    /// the PKCS#8 DER private key `pkcs8`, as JWS wants it for `algorithm`
    /// (RS256, PS256, ES256: ECDSA as the fixed-length `r || s`). The core has
    /// already checked that the key fits the algorithm. Natively aws-lc-rs, in
    /// WebAssembly the runtime's WebCrypto.
    fn sign(
        algorithm: AssertionAlgorithm,
        pkcs8: Arc<[u8]>,
        message: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>>;

    /// The inverse of [`Platform::seal`]; an error if the record was tampered
    /// with or sealed under other credentials.
    fn open(
        ikm: Vec<u8>,
        info: Vec<u8>,
        nonce: [u8; 12],
        aad: Vec<u8>,
        sealed: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>>;
}

/// The platform of this build.
#[cfg(not(target_arch = "wasm32"))]
pub type Host = crate::native::Native;
/// The platform of this build.
#[cfg(target_arch = "wasm32")]
pub type Host = crate::wasm::Wasm;

/// The parts of a URL the HTTPS rule looks at, as a WHATWG URL parser gives
/// them: the `url` crate natively, the runtime's own `URL` in WebAssembly (which
/// keeps the crate's Unicode tables, a quarter of the module, out of it).
pub struct UrlParts {
    /// `https`, `http`… (no colon).
    pub scheme: String,
    /// The serialised host: `example.com`, `127.0.0.1`, `[::1]`. Canonical, as
    /// WHATWG serialises it (IPv4 in dotted decimal, IPv6 compressed).
    pub host: String,
    /// Whether the URL carries a user name or password.
    pub has_credentials: bool,
}

/// A uniform random number in `[0, 1)`, for jitter.
pub(crate) fn random_unit() -> f64 {
    (Host::random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// `future`'s output, or `None` if `ms` milliseconds pass first (store calls
/// and lock polling are time-boxed with it). A future that is ready at once
/// starts no timer.
pub async fn time_boxed<T>(ms: u64, future: impl std::future::Future<Output = T>) -> Option<T> {
    use futures::future::{select, Either};
    let mut future = std::pin::pin!(future);
    if let std::task::Poll::Ready(value) = futures::poll!(future.as_mut()) {
        return Some(value);
    }
    match select(future, Host::sleep(ms)).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(((), _)) => None,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn time_boxes_cut_slow_futures_and_keep_fast_ones() {
        let slow = futures::executor::block_on(time_boxed(20, Host::sleep(5_000)));
        assert_eq!(slow, None);
        let fast = futures::executor::block_on(time_boxed(5_000, async { 7 }));
        assert_eq!(fast, Some(7));
    }

    #[test]
    fn randomness_is_fresh_per_draw() {
        let draws: std::collections::HashSet<u64> = (0..64).map(|_| Host::random_u64()).collect();
        assert_eq!(draws.len(), 64);
        assert!((0..1000)
            .map(|_| random_unit())
            .all(|x| (0.0..1.0).contains(&x)));
    }
}
