//! # tokenwell
//!
//! OAuth 2.0 client-credentials ("machine to machine") tokens for partner APIs,
//! fetched once and cached right: reused until they near expiry, refreshed ahead
//! in the background, one request for any number of concurrent callers, and never
//! printed. The same core runs natively (reqwest), in Python and Kotlin (uniffi)
//! and in JavaScript runtimes (WebAssembly over the runtime's `fetch`).
//!
//! ```no_run
//! # async fn demo() -> tokenwell::Result<()> {
//! use tokenwell::{TokenClient, TokenConfig};
//! let config = TokenConfig::from_json(r#"{
//!     "provider": "deliveroo", "environment": "sandbox",
//!     "client_id": "my-id", "client_secret": "my-secret"
//! }"#)?;
//! let client = TokenClient::new(config)?;
//! let header = client.authorization_header().await?; // "Bearer eyJ…"
//! # Ok(()) }
//! ```
//!
//! The core is sans-IO: the request it builds and the response it parses are
//! pure values ([`HttpRequest`], [`HttpResponse`]); [`TokenClient`] adds the
//! cache and single-flight over injectable traits: [`Transport`], [`Clock`],
//! [`Spawn`], [`Store`] and [`EventSink`].
#![deny(missing_docs)]

/// Declares internal modules: crate-private, or public and hidden from the
/// documentation with the `testing` feature, which the integration tests, the
/// benches and the fuzz crate turn on to reach the pure stages and the fleet
/// protocol directly. Nothing behind it is part of the versioned API.
macro_rules! internal {
    ($($(#[$attr:meta])* mod $name:ident;)*) => {$(
        $(#[$attr])*
        #[cfg(feature = "testing")]
        #[doc(hidden)]
        pub mod $name;
        $(#[$attr])*
        #[cfg(not(feature = "testing"))]
        mod $name;
    )*};
}

/// Declares a test hook on a public type: public and hidden from the
/// documentation with the `testing` feature, crate-private without it.
macro_rules! test_hook {
    ($(#[$attr:meta])* fn $name:ident $($rest:tt)*) => {
        $(#[$attr])*
        #[cfg(feature = "testing")]
        #[doc(hidden)]
        pub fn $name $($rest)*
        $(#[$attr])*
        #[cfg(not(feature = "testing"))]
        #[allow(dead_code)]
        pub(crate) fn $name $($rest)*
    };
}

mod b64;
mod client;
mod clock;
pub mod config;
mod credential;
mod error;
mod events;
mod metrics;
mod mtls;
#[cfg(any(feature = "ffi", target_arch = "wasm32"))]
mod records;
mod runtime;
mod secret;
mod status;
mod store;
mod token;
mod transport;

internal! {
    mod assertion;
    mod budget;
    mod discovery;
    mod doordash;
    mod expiry;
    mod fleet;
    mod platform;
    mod presets;
    mod profile;
    mod redact;
    mod request;
    mod response;
}

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(all(feature = "mock", not(target_arch = "wasm32")))]
pub mod mock;

pub use budget::Spend;
pub use client::{Builder, Lease, TokenClient, MAX_REUSE_MS};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Provider, TokenConfig};
#[cfg(not(target_arch = "wasm32"))]
pub use credential::CredentialProvider;
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, EventKind, EventSink, FetchReason, LockOutcome, EVENTS};
pub use metrics::{Instrument, MetricKind, METRICS};
pub use request::HttpRequest;
#[cfg(not(target_arch = "wasm32"))]
pub use response::header_list;
pub use response::{HttpResponse, MAX_RESPONSE_BYTES, MAX_RESPONSE_HEAD_BYTES};
pub use runtime::{BoxFuture, MaybeSendSync, Spawn};
pub use secret::Secret;
pub use status::{BreakerState, Health, Status, StoreHealth};
pub use store::{CacheKey, MemoryStore, Store, StoredToken};
pub use token::AccessToken;
pub use transport::Transport;

#[cfg(feature = "ffi")]
uniffi::setup_scaffolding!();
