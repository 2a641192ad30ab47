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
//! The core is sans-IO: [`profile`], [`request`], [`response`] and [`expiry`]
//! are pure; [`TokenClient`] adds the cache and single-flight over three
//! injectable traits, [`Transport`], [`Clock`] and [`Spawn`].
#![warn(missing_docs)]

pub mod assertion;
mod b64;
pub mod budget;
mod client;
mod clock;
pub mod config;
mod credential;
pub mod discovery;
pub mod doordash;
mod error;
mod events;
pub mod expiry;
pub mod fleet;
pub mod metrics;
mod mtls;
pub mod profile;
#[cfg(any(feature = "ffi", target_arch = "wasm32"))]
mod records;
pub mod redact;
pub mod request;
pub mod response;
mod runtime;
mod secret;
mod status;
mod store;
mod token;
mod transport;

pub mod platform;
pub mod presets;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(all(feature = "mock", not(target_arch = "wasm32")))]
pub mod mock;

pub use client::{Builder, Lease, TokenClient, MAX_REUSE_MS};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Provider, TokenConfig};
#[cfg(not(target_arch = "wasm32"))]
pub use credential::CredentialProvider;
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, EventKind, EventSink, FetchReason, LockOutcome, EVENTS};
pub use response::MAX_RESPONSE_BYTES;
pub use runtime::{BoxFuture, MaybeSendSync, Spawn};
pub use secret::Secret;
pub use status::{BreakerState, Health, Status, StoreHealth};
pub use store::{CacheKey, MemoryStore, Store, StoredToken};
pub use token::AccessToken;
pub use transport::Transport;

#[cfg(feature = "ffi")]
uniffi::setup_scaffolding!();
