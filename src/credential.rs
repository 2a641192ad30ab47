//! Where a client's secret comes from, and what a new one does.
//!
//! Three sources: the config's `client_secret` (fixed), `client_secret_file`
//! (re-read when the file changes) and a [`CredentialProvider`] the
//! application passes. With `private_key_jwt`, `private_key_file` or a
//! provider gives the key the same way: a new key is read, checked against the
//! assertion's algorithm and fingerprinted as the one the client was built
//! with was. A rotating source is consulted once per fetch, never on
//! a cache hit: a file costs one `stat` (its modification time, size and inode;
//! read again only when one of them moved), a provider one call, time-boxed.
//!
//! A changed secret makes the client a new one: its cached token is dropped,
//! and the cache key and the fleet record's sealing key, both derived from the
//! secret, follow it (a record sealed under the old secret sits under the old
//! key: a miss, never an error). Bindings' memos need nothing more: a memo
//! never outlives its lease, and a fetch starts only once every lease of the
//! token it replaces has run out (or an `invalidate` voided them).
//!
//! A file that cannot be read, or a provider that fails, keeps the last good
//! secret and warns; with no good secret ever, the fetch fails with `config`.

use std::sync::OnceLock;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::{Arc, Mutex};

use crate::config::TokenConfig;
#[cfg(not(target_arch = "wasm32"))]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::fleet::Keys;
use crate::profile::{Credentials, Profile};
#[cfg(not(target_arch = "wasm32"))]
use crate::runtime::MaybeSendSync;
use crate::secret::Secret;
use crate::store::CacheKey;

/// Gives the client's current secret or, with `private_key_jwt`, its private
/// key (PKCS#8 PEM; `assertion.algorithm` must then be configured). Asked at
/// most once per token fetch, never on a cache hit, and time-boxed by
/// `http.timeout_ms`. A failure, or a key the algorithm cannot sign with,
/// keeps the last good one; its message is logged, so it must not carry the
/// secret.
///
/// Any `Fn() -> Result<Secret>` is one (it runs on the fetch's task: keep it
/// quick, e.g. a read of memory another thread refreshes).
#[cfg(not(target_arch = "wasm32"))]
#[async_trait::async_trait]
pub trait CredentialProvider: MaybeSendSync {
    /// The current secret.
    async fn credential(&self) -> Result<Secret>;
}

#[cfg(not(target_arch = "wasm32"))]
#[async_trait::async_trait]
impl<F> CredentialProvider for F
where
    F: Fn() -> Result<Secret> + MaybeSendSync,
{
    async fn credential(&self) -> Result<Secret> {
        self()
    }
}

/// One secret and everything derived from it: what a fetch uses from its
/// start to its end, whatever rotates meanwhile.
pub(crate) struct Snapshot {
    pub(crate) creds: Credentials,
    /// False while a provider has never given a secret (`creds` holds none).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) good: bool,
    /// Computed on first use: most clients never need it (no store, no
    /// `cache_key()` call), and it costs a SHA-256 and a string.
    key: OnceLock<CacheKey>,
}

impl Snapshot {
    pub(crate) fn new(creds: Credentials, good: bool) -> Snapshot {
        Snapshot {
            creds,
            good,
            key: OnceLock::new(),
        }
    }

    /// The key a token fetched with this secret is cached under.
    pub(crate) fn key(&self, profile: &Profile) -> &CacheKey {
        self.key.get_or_init(|| CacheKey::new(profile, &self.creds))
    }

    /// The fleet keys of [`Snapshot::key`] under `prefix` (two short strings,
    /// made once per fetch: kept, they would cost every client two more).
    pub(crate) fn keys(&self, profile: &Profile, prefix: &str) -> Keys {
        Keys::new(prefix, self.key(profile))
    }
}

/// The secret a config gives at construction: `client_secret`, or the content
/// of `client_secret_file`, or (with a provider, asked at the first fetch)
/// none yet. Errors name the key, never a value.
pub(crate) fn initial_secret(cfg: &TokenConfig, provider: bool) -> Result<Option<Secret>> {
    match (&cfg.client_secret, &cfg.client_secret_file, provider) {
        (Some(_), Some(_), _) => Err(Error::config(
            "client_secret and client_secret_file are both given",
        )),
        (Some(_), None, true) | (None, Some(_), true) => Err(Error::config(
            "a credential provider replaces client_secret and client_secret_file",
        )),
        (Some(secret), None, false) if secret.is_empty() => {
            Err(Error::config("client_secret is empty"))
        }
        (Some(secret), None, false) => Ok(Some(secret.clone())),
        #[cfg(not(target_arch = "wasm32"))]
        (None, Some(path), false) => file::read(path)
            .map(Some)
            .map_err(|why| file_error(false, why)),
        #[cfg(target_arch = "wasm32")]
        (None, Some(_), false) => Err(Error::config(
            "client_secret_file: WebAssembly has no files; pass a credentialProvider",
        )),
        (None, None, true) => Ok(None),
        (None, None, false) => Err(Error::config("client_secret is missing")),
    }
}

/// A rotating source and what it saw last (not in WebAssembly: no files
/// there, and a JS provider lives in the JS wrapper).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) struct Rotation {
    source: Source,
    /// The secret in use, with its derived keys.
    current: Mutex<Arc<Snapshot>>,
    /// The file's identity when it was last read (`None`: read it next time).
    seen: Mutex<Option<file::Stamp>>,
    /// `stat` calls so far (for tests: none on a hit, at most one a fetch).
    stats: std::sync::atomic::AtomicU64,
}

#[cfg(not(target_arch = "wasm32"))]
enum Source {
    /// A file: the client secret's, or (`key`) the private key's.
    #[cfg(not(target_arch = "wasm32"))]
    File {
        path: String,
        key: bool,
    },
    Provider(Arc<dyn CredentialProvider>, u64),
}

/// What consulting the source found.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) enum Found {
    /// The secret in use.
    Same,
    /// Other credentials (another secret, or another private key).
    New(Credentials),
    /// No secret: the reason, without the secret.
    Failed(Error),
}

#[cfg(not(target_arch = "wasm32"))]
impl Rotation {
    /// The rotation of a client built from `cfg`, if its secret can change.
    pub(crate) fn new(
        cfg: &TokenConfig,
        provider: Option<Arc<dyn CredentialProvider>>,
        initial: &Arc<Snapshot>,
    ) -> Option<Box<Rotation>> {
        let key_file = match initial
            .creds
            .assertion
            .as_ref()
            .and_then(|a| a.key.as_ref())
        {
            Some(_) => cfg.private_key_file.as_ref(),
            None => None,
        };
        let source = match (provider, &cfg.client_secret_file, key_file) {
            (Some(p), _, _) => Source::Provider(p, cfg.http.timeout_ms),
            #[cfg(not(target_arch = "wasm32"))]
            (None, Some(path), _) => Source::File {
                path: path.clone(),
                key: false,
            },
            #[cfg(not(target_arch = "wasm32"))]
            (None, None, Some(path)) => Source::File {
                path: path.clone(),
                key: true,
            },
            // In WebAssembly a file was refused when the config was resolved.
            _ => return None,
        };
        // The file was read once already: its stamp is taken at the first fetch.
        Some(Box::new(Rotation {
            source,
            current: Mutex::new(initial.clone()),
            seen: Mutex::new(None),
            stats: Default::default(),
        }))
    }

    pub(crate) fn current(&self) -> Arc<Snapshot> {
        lock(&self.current).clone()
    }

    pub(crate) fn replace(&self, snapshot: Arc<Snapshot>) {
        *lock(&self.current) = snapshot;
    }

    pub(crate) fn stats(&self) -> u64 {
        self.stats.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Consults the source against `current`. `reread`: read the file even if
    /// its stamp did not move (after an `invalid_client`), without a `stat`.
    pub(crate) async fn check(&self, profile: &Profile, current: &Snapshot, reread: bool) -> Found {
        let found = match &self.source {
            #[cfg(not(target_arch = "wasm32"))]
            Source::File { path, key } => {
                let stamp = if reread {
                    None
                } else {
                    self.stats
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    match file::stamp(path) {
                        Ok(stamp) => Some(stamp),
                        Err(why) => return Found::Failed(file_error(*key, why)),
                    }
                };
                if stamp.is_some() && *lock(&self.seen) == stamp && current.good {
                    return Found::Same;
                }
                match file::read(path) {
                    Ok(secret) => {
                        *lock(&self.seen) = stamp;
                        Ok(secret)
                    }
                    Err(why) => Err(file_error(*key, why)),
                }
            }
            Source::Provider(provider, timeout_ms) => {
                // A panic natively is the provider's failure; WebAssembly aborts on one.
                #[cfg(not(target_arch = "wasm32"))]
                let call = async {
                    let call = std::panic::AssertUnwindSafe(provider.credential());
                    futures::FutureExt::catch_unwind(call)
                        .await
                        .unwrap_or_else(|_| {
                            Err(Error::new(
                                ErrorKind::Internal,
                                "the credential provider panicked",
                            ))
                        })
                };
                #[cfg(target_arch = "wasm32")]
                let call = provider.credential();
                crate::platform::time_boxed(*timeout_ms, call)
                    .await
                    .unwrap_or_else(|| {
                        Err(Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "the credential provider did not answer within {timeout_ms} ms"
                            ),
                        ))
                    })
                    .map_err(|e| {
                        Error::new(e.kind(), format!("the credential provider failed ({e})"))
                    })
            }
        };
        let creds = &current.creds;
        let key_source = match self.source {
            Source::Provider(..) => "the credential provider's private key",
            Source::File { .. } => "private_key_file",
        };
        let found = found.and_then(|secret| with_secret(profile, creds, secret, key_source));
        match found {
            Ok(next) if current.good && next.key_material() == creds.key_material() => Found::Same,
            Ok(next) => Found::New(next),
            Err(e) => Found::Failed(e),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn file_error(key: bool, why: String) -> Error {
    let name = if key {
        "private_key_file"
    } else {
        "client_secret_file"
    };
    Error::config(format!("{name} cannot be read: {why}"))
}

/// The error of a fetch whose source (a provider, a file) failed before it
/// ever gave a secret: a `config` error naming what it should have given.
pub(crate) fn no_secret_yet(creds: &Credentials, why: impl std::fmt::Display) -> Error {
    let what = match &creds.assertion {
        Some(a) if a.uses_private_key() => "private key",
        _ => "client secret",
    };
    Error::config(format!("no {what} yet: {why}"))
}

/// `creds` with a new secret from a rotating source: with `private_key_jwt`
/// the private key's PEM (`key_source` names it in errors), else the client
/// secret. A `config` error if the request cannot use it (a key the
/// algorithm cannot sign with, too), so it keeps the last good one like an
/// unreadable file does.
#[cfg(not(target_arch = "wasm32"))]
fn with_secret(
    profile: &Profile,
    creds: &Credentials,
    secret: Secret,
    key_source: &str,
) -> Result<Credentials> {
    match &creds.assertion {
        Some(assertion) if assertion.uses_private_key() => Ok(Credentials {
            client_id: creds.client_id.clone(),
            client_secret: creds.client_secret.clone(),
            assertion: Some(std::sync::Arc::new(
                assertion.with_key(secret.expose(), key_source)?,
            )),
            minter: None,
        }),
        _ => Ok(Credentials {
            client_id: creds.client_id.clone(),
            client_secret: sendable(profile, secret)?,
            assertion: creds.assertion.clone(),
            minter: creds.minter.clone(),
        }),
    }
}

/// A new client secret, if a request can carry it: not empty, and in a
/// multipart body neither a line break nor the boundary (the rest of the
/// request was checked when the client was built).
#[cfg(not(target_arch = "wasm32"))]
fn sendable(profile: &Profile, secret: Secret) -> Result<Secret> {
    use crate::config::{CredentialsIn, Encoding};
    let text = secret.expose();
    let in_part =
        profile.encoding == Encoding::Multipart && profile.credentials != CredentialsIn::Basic;
    let boundary = crate::request::MULTIPART_BOUNDARY.as_bytes();
    let breaks_part = text.contains(['\r', '\n'])
        || text
            .as_bytes()
            .windows(boundary.len())
            .any(|w| w == boundary);
    if text.is_empty() || (in_part && breaks_part) {
        Err(Error::config(
            "the new client secret is empty, or cannot be sent in a multipart body",
        ))
    } else {
        Ok(secret)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The file system (natively only: in WebAssembly a file is a `config` error).
#[cfg(not(target_arch = "wasm32"))]
mod file {
    use crate::secret::Secret;

    /// What tells a changed file: modification time, size, inode (a
    /// Kubernetes secret volume swaps a symlink: the inode moves).
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Stamp(Option<std::time::SystemTime>, u64, u64);

    /// The file's stamp (one `stat`, through symlinks). The reason for a
    /// failure names neither the path nor anything read.
    pub(crate) fn stamp(path: &str) -> Result<Stamp, String> {
        let meta = std::fs::metadata(path).map_err(|e| reason(&e))?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Stamp(meta.modified().ok(), meta.len(), inode))
    }

    /// The secret in the file: its text without one trailing newline.
    pub(crate) fn read(path: &str) -> Result<Secret, String> {
        let bytes = std::fs::read(path).map_err(|e| reason(&e))?;
        let mut text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8".to_owned())?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if text.is_empty() {
            return Err("it is empty".into());
        }
        Ok(Secret::from(text))
    }

    fn reason(e: &std::io::Error) -> String {
        // The OS's words (e.g. "No such file or directory (os error 2)"): no path, no content.
        e.to_string()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_not_part_of_the_secret() {
        let dir = std::env::temp_dir().join(format!("tw-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let p = path.to_str().unwrap();
        for (content, secret) in [
            ("abc\n", "abc"),
            ("abc\r\n", "abc"),
            ("abc\n\n", "abc\n"),
            ("abc", "abc"),
        ] {
            std::fs::write(&path, content).unwrap();
            assert_eq!(file::read(p).unwrap().expose(), secret);
        }
        std::fs::write(&path, "\n").unwrap();
        assert!(file::read(p).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
