//! State shared by the server's connections and the [`MockServer`](super::MockServer) handle.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::{Fault, MockOptions, RecordedRequest, ScriptedResponse};

/// Settings that tests may change while the server runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Config {
    pub lifetime_secs: Option<u64>,
    pub latency_ms: u64,
    pub fault: Option<Fault>,
    /// Toast's 2 token requests per hour enforced (a 429 past them).
    pub toast_rate_limit: bool,
}

#[derive(Default)]
pub(crate) struct State {
    pub config: Config,
    pub requests: Vec<RecordedRequest>,
    pub script: VecDeque<ScriptedResponse>,
    /// The `jti` of every client assertion accepted since the last reset.
    pub assertion_ids: std::collections::HashSet<String>,
    /// The path of every metadata request, in order.
    pub metadata: Vec<String>,
    /// The DoorDash API route's counters.
    pub doordash: DoorDash,
    /// Uber's, Stuart's and Toast's memory of their clients.
    pub platforms: super::platforms::PlatformState,
}

/// Calls to the DoorDash API route since the last reset.
#[derive(Default)]
pub(crate) struct DoorDash {
    pub calls: u64,
    pub accepted: u64,
    /// Calls still to answer 401 whatever their JWT.
    pub reject_next: u64,
}

pub(crate) struct Shared {
    /// The only accepted pair, if any. Its secret changes only by
    /// [`Shared::rotate_secret`].
    credentials: Mutex<Option<(String, String)>>,
    state: Mutex<State>,
    /// Never reset, so tokens stay unique across `reset()`.
    next_token: AtomicU64,
}

impl Shared {
    pub fn new(opts: &MockOptions) -> Self {
        Shared {
            credentials: Mutex::new(opts.credentials.clone()),
            state: Mutex::new(State {
                config: Config {
                    lifetime_secs: opts.lifetime_secs,
                    latency_ms: opts.latency_ms,
                    fault: opts.fault,
                    toast_rate_limit: false,
                },
                ..State::default()
            }),
            next_token: AtomicU64::new(1),
        }
    }

    /// Locks the state. A panic elsewhere while holding the lock cannot leave
    /// it half-updated in a harmful way, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets recorded requests, the script, the fault, the platforms' memory
    /// and Toast's limit; keeps lifetime and latency.
    pub fn reset(&self) {
        let mut state = self.lock();
        state.requests.clear();
        state.metadata.clear();
        state.script.clear();
        state.assertion_ids.clear();
        state.doordash = Default::default();
        state.config.fault = None;
        state.config.toast_rate_limit = false;
        state.platforms = Default::default();
    }

    pub fn next_token_id(&self) -> u64 {
        self.next_token.fetch_add(1, Ordering::Relaxed)
    }

    /// The only accepted pair (client id, secret), if any.
    pub fn accepted(&self) -> Option<(String, String)> {
        let credentials = self.credentials.lock().unwrap_or_else(|e| e.into_inner());
        credentials.clone()
    }

    /// Whether the pair is acceptable: non-empty, and equal to the configured pair if any.
    pub fn credentials_match(&self, id: &str, secret: &str) -> bool {
        let credentials = self.credentials.lock().unwrap_or_else(|e| e.into_inner());
        match &*credentials {
            Some((want_id, want_secret)) => id == want_id && secret == want_secret,
            None => !id.is_empty() && !secret.is_empty(),
        }
    }

    /// Replaces the accepted client's secret, as Bringg does when a new key is
    /// generated: the old one is refused from now on. `false` (nothing
    /// changed) when the mock accepts any pair.
    pub fn rotate_secret(&self, secret: &str) -> bool {
        let mut credentials = self.credentials.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *credentials {
            Some((_, want_secret)) => {
                *want_secret = secret.to_owned();
                true
            }
            None => false,
        }
    }
}
