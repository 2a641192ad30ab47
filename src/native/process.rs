//! What one OS process owns and a forked child must never inherit: tokenwell's
//! tokio runtime, its HTTP connection pools and the threads and queues of
//! users' own stores.
//!
//! A child of `fork()` gets a copy of the parent's memory but only the thread
//! that forked: the parent's runtime threads do not exist there, so a task
//! spawned on the inherited runtime would never run (and a fetch in flight at
//! fork time would never finish), and the inherited pools hold sockets the
//! parent is still using. So every resource here belongs to one *generation*: a
//! `pthread_atfork` child handler bumps the generation, and the next caller in
//! the child builds a fresh set. The parent's set is leaked in the child, never
//! dropped: dropping a runtime would wait for threads that are not there.
//!
//! Clients hold none of this; they look it up on each fetch. A client built in
//! the parent therefore works in the child, and so do clients built there.

use super::network::Network;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, Once};

/// Bumped in every forked child (see [`on_fork_child`]).
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The current generation's resources (leaked: they live as long as the process).
static CURRENT: AtomicPtr<Process> = AtomicPtr::new(std::ptr::null_mut());

/// The resources of one process.
pub struct Process {
    generation: u64,
    runtime: tokio::runtime::Runtime,
    /// One HTTP client (TLS configuration and connection pool) per distinct
    /// connect timeout, proxy, CA set and client certificate (see
    /// [`Network::key`]): reqwest takes the whole-request timeout per request.
    http: Mutex<HashMap<[u8; 32], reqwest::Client>>,
    /// The threads and queue that run own stores' calls, apart from the
    /// runtime's blocking pool (host-name lookups must never wait behind them).
    #[cfg(feature = "ffi")]
    own_stores: super::foreign::OwnStores,
}

/// The generation of this process: 0, plus one per `fork()` on the way here.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

impl Process {
    /// This process's resources, created on first use (and again after a fork).
    pub fn current() -> Result<&'static Process> {
        let generation = generation();
        let existing = CURRENT.load(Ordering::Acquire);
        // SAFETY: a published `Process` is leaked, so the pointer stays valid.
        if let Some(p) = unsafe { existing.as_ref() } {
            if p.generation == generation {
                return Ok(p);
            }
        }
        register_fork_handler();
        let fresh = Box::into_raw(Box::new(Process::new(generation)?));
        match CURRENT.compare_exchange(existing, fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: just leaked; the one before it stays leaked too.
            Ok(_) => Ok(unsafe { &*fresh }),
            Err(_) => {
                // Another thread won the race: drop ours (this process made it,
                // so its threads exist; `shutdown_background` never blocks) and
                // take the winner's.
                // SAFETY: `fresh` was never published.
                let ours = unsafe { Box::from_raw(fresh) };
                ours.runtime.shutdown_background();
                Process::current()
            }
        }
    }

    fn new(generation: u64) -> Result<Process> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tokenwell")
            .enable_all()
            .build()
            .map_err(|e| Error::config(format!("cannot start the tokio runtime: {e}")))?;
        Ok(Process {
            generation,
            runtime,
            http: Mutex::new(HashMap::new()),
            #[cfg(feature = "ffi")]
            own_stores: super::foreign::OwnStores::default(),
        })
    }

    /// The runtime tokenwell's own tasks run on.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// The threads and queue of own stores' calls.
    #[cfg(feature = "ffi")]
    pub fn own_stores(&self) -> &super::foreign::OwnStores {
        &self.own_stores
    }

    /// The generation these resources belong to.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The shared HTTP client for `network`'s settings: never follows
    /// redirects (a redirect would carry the credentials to another URL).
    pub fn http_client(&self, network: &Network) -> Result<reqwest::Client> {
        let mut clients = self.http.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(&network.key()) {
            return Ok(client.clone());
        }
        // reqwest registers its connector with the runtime it is built in.
        let _guard = self.runtime.enter();
        let client = network
            .builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tokenwell/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                let error = Error::config(format!(
                    "cannot build the HTTP client: {}",
                    super::transport::chain(&e)
                ));
                network.scrub(error)
            })?;
        clients.insert(network.key(), client.clone());
        Ok(client)
    }
}

fn register_fork_handler() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        #[cfg(unix)]
        // SAFETY: the handler only bumps an atomic (async-signal-safe).
        unsafe {
            libc::pthread_atfork(None, None, Some(on_fork_child));
        }
    });
}

/// Runs in the child right after `fork()`: the next [`Process::current`] builds
/// a fresh set of resources.
#[cfg(unix)]
extern "C" fn on_fork_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}
