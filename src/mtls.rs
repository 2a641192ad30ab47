//! Mutual TLS client authentication (RFC 8705, `tls_client_auth` and
//! `self_signed_tls_client_auth`): the client certificate authenticates the
//! client, the body names it (`client_id`), no secret is sent.

use crate::config::TokenConfig;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What the cache key and the shared store's sealing key derive from: natively
/// the fingerprint of `http.client_key_file`'s key (read and checked against
/// its certificate now); in WebAssembly, where the application's `fetch` holds
/// the certificate, nothing beyond the client id.
pub(crate) fn key_material(cfg: &TokenConfig, provider: bool) -> Result<Secret> {
    if provider || cfg.client_secret.is_some() || cfg.client_secret_file.is_some() {
        return Err(Error::config(
            "client_secret is not used with mutual TLS: remove it",
        ));
    }
    #[cfg(not(target_arch = "wasm32"))]
    return crate::native::network::client_key_fingerprint(&cfg.http);
    #[cfg(target_arch = "wasm32")]
    Ok(Secret::default())
}

/// Mutual TLS over WebAssembly's built-in `fetch`, which has no TLS settings:
/// the application's `fetch` must present the client certificate.
#[cfg(target_arch = "wasm32")]
pub(crate) fn needs_fetch() -> Error {
    Error::config(
        "mutual TLS needs the fetch option: one that presents the client certificate \
         (undici's with an Agent as dispatcher, a Workers mTLS binding's)",
    )
}
