//! The native adapter: reqwest over rustls for HTTP, tokio for background fetches.

mod transport;

#[cfg(feature = "ffi")]
pub mod ffi;

use std::sync::{Arc, OnceLock};

pub use transport::ReqwestTransport;

use crate::config::HttpOptions;
use crate::profile::UrlParts;
use crate::runtime::{BoxFuture, Spawn};
use crate::{Error, Result, Transport};

/// Spawns background fetches on a tokio runtime.
#[derive(Clone, Debug)]
pub struct TokioSpawner(tokio::runtime::Handle);

impl TokioSpawner {
    /// Spawns on the given runtime.
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        TokioSpawner(handle)
    }

    /// The runtime of the calling task if there is one, else a small runtime
    /// owned by tokenwell (for synchronous callers and foreign languages).
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

/// tokenwell's own runtime: two worker threads are plenty for token fetches.
pub fn shared_runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("tokenwell")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::config(format!("cannot start the tokio runtime: {e}")))
}

pub(crate) fn parse_url(raw: &str) -> std::result::Result<UrlParts, String> {
    let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    Ok(UrlParts {
        scheme: url.scheme().to_owned(),
        host: url.host_str().unwrap_or_default().to_owned(),
        has_credentials: !url.username().is_empty() || url.password().is_some(),
    })
}

pub(crate) fn default_transport(http: &HttpOptions) -> Result<Arc<dyn Transport>> {
    Ok(Arc::new(ReqwestTransport::new(http)?))
}

pub(crate) fn default_spawner() -> Result<Arc<dyn Spawn>> {
    Ok(Arc::new(TokioSpawner::current_or_shared()?))
}
