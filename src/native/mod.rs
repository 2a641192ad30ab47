//! The native adapter: reqwest over rustls for HTTP, tokio for background
//! fetches, both owned per process so that a fork is safe.

pub(crate) mod network;
mod process;
mod redis;
mod seal;
mod sign;
mod transport;

#[cfg(feature = "ffi")]
mod events;
#[cfg(feature = "ffi")]
mod foreign;
#[cfg(feature = "ffi")]
mod foreign_transport;
#[cfg(feature = "ffi")]
mod logging;
internal! {
    /// The uniffi exports behind the Python and Kotlin packages: their API is
    /// theirs (`tokenwell._ffi`, `dev.tokenwell.internal.ffi`), not the crate's.
    #[cfg(feature = "ffi")]
    mod ffi;
}

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use process::Process;

pub use redis::RedisStore;
pub use transport::ReqwestTransport;

use crate::config::{HttpOptions, StoreOptions};
use crate::error::Result;
use crate::platform::{Platform, UrlParts};
use crate::runtime::{BoxFuture, Spawn};
use crate::secret::Secret;
use crate::store::Store;
use crate::transport::Transport;

/// Spawns background fetches on a tokio runtime of the caller's choosing.
/// Not fork-aware: prefer the default ([`ProcessSpawner`]) in processes that fork.
#[derive(Clone, Debug)]
pub struct TokioSpawner(tokio::runtime::Handle);

impl TokioSpawner {
    /// Spawns on the given runtime.
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        TokioSpawner(handle)
    }

    /// The runtime of the calling task if there is one, else tokenwell's own
    /// runtime of this process.
    pub fn current_or_shared() -> Result<Self> {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => Ok(TokioSpawner(handle)),
            Err(_) => Ok(TokioSpawner(shared_runtime()?.handle().clone())),
        }
    }
}

impl Spawn for TokioSpawner {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        drop(self.0.spawn(task));
    }
}

/// The default spawner: tokenwell's own runtime of the *current* process, looked
/// up at each spawn, so a client built before a `fork()` works in the child.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessSpawner;

impl Spawn for ProcessSpawner {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        match Process::current() {
            Ok(process) => drop(process.runtime().spawn(task)),
            // No runtime can be started: run the fetch on a thread of its own
            // rather than strand its waiters.
            Err(e) => {
                log::error!("tokenwell: {e}; fetching on a plain thread");
                std::thread::spawn(move || futures::executor::block_on(task));
            }
        }
    }

    fn generation(&self) -> u64 {
        process::generation()
    }
}

/// tokenwell's own runtime in this process (two worker threads are plenty for
/// token fetches); a forked child gets a new one.
pub(crate) fn shared_runtime() -> Result<&'static tokio::runtime::Runtime> {
    Process::current().map(Process::runtime)
}

/// The native platform: the `url` crate, the OS clocks and randomness, reqwest
/// and tokenwell's own per-process tokio runtime.
#[derive(Clone, Copy, Debug, Default)]
#[cfg(feature = "testing")]
#[doc(hidden)]
pub struct Native;
/// The native platform: the `url` crate, the OS clocks and randomness, reqwest
/// and tokenwell's own per-process tokio runtime.
#[derive(Clone, Copy, Debug, Default)]
#[cfg(not(feature = "testing"))]
pub(crate) struct Native;

impl Platform for Native {
    fn parse_url(raw: &str) -> std::result::Result<UrlParts, String> {
        let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
        Ok(UrlParts {
            scheme: url.scheme().to_owned(),
            host: url.host_str().unwrap_or_default().to_owned(),
            has_credentials: !url.username().is_empty() || url.password().is_some(),
        })
    }

    fn monotonic_ms() -> u64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed().as_millis() as u64
    }

    fn unix_ms() -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        }
    }

    fn default_transport(http: &HttpOptions) -> Result<Arc<dyn Transport>> {
        Ok(Arc::new(ReqwestTransport::new(http)?))
    }

    fn default_spawner() -> Result<Arc<dyn Spawn>> {
        Ok(Arc::new(ProcessSpawner))
    }

    fn redis_store(options: &StoreOptions, redis_url: &Secret) -> Result<Arc<dyn Store>> {
        Ok(Arc::new(RedisStore::new(options, redis_url)?))
    }

    fn sleep(ms: u64) -> BoxFuture<'static, ()> {
        let duration = Duration::from_millis(ms);
        match Process::current() {
            // On tokenwell's runtime, so any executor (or none) can await it.
            Ok(process) => {
                let timer = process
                    .runtime()
                    .spawn(async move { tokio::time::sleep(duration).await });
                Box::pin(async move {
                    let _ = timer.await;
                })
            }
            Err(_) => {
                let (done, wait) = futures::channel::oneshot::channel::<()>();
                std::thread::spawn(move || {
                    std::thread::sleep(duration);
                    let _ = done.send(());
                });
                Box::pin(async move {
                    let _ = wait.await;
                })
            }
        }
    }

    fn random_u64() -> u64 {
        let mut bytes = [0u8; 8];
        // The OS's generator keeps no state in the process: a forked child draws
        // its own numbers. Should it ever fail, fall back to the clock mixed with
        // the pid (still distinct per process).
        if getrandom::getrandom(&mut bytes).is_err() {
            let mix = (Self::unix_ms() as u64) ^ u64::from(std::process::id()).rotate_left(32);
            return mix.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ Self::monotonic_ms();
        }
        u64::from_le_bytes(bytes)
    }

    fn seal(
        ikm: Vec<u8>,
        info: Vec<u8>,
        nonce: [u8; 12],
        aad: Vec<u8>,
        plaintext: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        Box::pin(futures::future::ready(seal::seal(
            &ikm, &info, &nonce, &aad, &plaintext,
        )))
    }

    fn sign(
        algorithm: crate::config::AssertionAlgorithm,
        pkcs8: Arc<[u8]>,
        message: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        Box::pin(futures::future::ready(sign::sign(
            algorithm, &pkcs8, &message,
        )))
    }

    fn open(
        ikm: Vec<u8>,
        info: Vec<u8>,
        nonce: [u8; 12],
        aad: Vec<u8>,
        sealed: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        Box::pin(futures::future::ready(seal::open(
            &ikm, &info, &nonce, &aad, &sealed,
        )))
    }
}
