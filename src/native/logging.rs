//! The core's `log` records, forwarded to the host language's logging (Python
//! `logging`, SLF4J / java.util.logging) through a foreign [`LogSink`].
//!
//! Only the core's own records (target `tokenwell` or `tokenwell::…`) are
//! forwarded: their texts are scrubbed of secrets and tokens. Dependencies'
//! records (rustls, redis, reqwest) are not, and never leave Rust. The core
//! logs nothing on a cache hit, so nothing crosses the FFI on the hot path.
//!
//! The foreign side installs its sink once per process with the most verbose
//! level its logger has enabled; records below it are dropped by `log`'s own
//! level check before they are even formatted.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use log::{LevelFilter, Log, Metadata, Record};

/// The host language's logger, as the core sees it.
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    /// One record: `level` is `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`,
    /// `target` the Rust module (`tokenwell::client`), `message` the scrubbed text.
    /// Must not raise; if it does, the record is dropped (a fetch never fails
    /// because of its log record).
    fn log(&self, level: String, target: String, message: String);
}

/// The process's sink, replaced by each [`set_log_sink`].
static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);

/// The `log::Log` of the process once a sink was set.
static FORWARDER: Forwarder = Forwarder;

/// Whether [`FORWARDER`] is the process's logger.
static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set while this thread is inside the sink: a record logged from there
    /// (the sink calling back into the core) is dropped, not looped.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

struct Forwarder;

fn is_core_target(target: &str) -> bool {
    target == "tokenwell" || target.starts_with("tokenwell::")
}

impl Log for Forwarder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && is_core_target(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) || IN_SINK.with(Cell::get) {
            return;
        }
        // Cloned out so the lock is not held across the foreign call.
        let sink = match SINK.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let Some(sink) = sink else { return };
        let level = record.level().as_str().to_owned();
        let target = record.target().to_owned();
        let message = record.args().to_string();
        IN_SINK.with(|flag| flag.set(true));
        // A foreign logger that raises surfaces here as a panic (uniffi's
        // "callback interface failure"): drop the record, never unwind into the
        // caller, which may hold the client's state lock.
        let _ = catch_unwind(AssertUnwindSafe(|| sink.log(level, target, message)));
        IN_SINK.with(|flag| flag.set(false));
    }

    fn flush(&self) {}
}

fn level_filter(name: &str) -> LevelFilter {
    name.trim().parse().unwrap_or(LevelFilter::Off)
}

/// Forwards the core's records at `max_level` and above (`error`, `warn`,
/// `info`, `debug`, `trace` or `off`, any case) to `sink`, replacing any
/// previous sink. Returns false if another logger already owns this process's
/// `log` facade (a Rust host with its own logger): records then go there.
#[uniffi::export]
pub fn set_log_sink(sink: Arc<dyn LogSink>, max_level: String) -> bool {
    match SINK.write() {
        Ok(mut guard) => *guard = Some(sink),
        Err(poisoned) => *poisoned.into_inner() = Some(sink),
    }
    // set_logger succeeds once per process; a later call finds ours (or another).
    if log::set_logger(&FORWARDER).is_ok() {
        INSTALLED.store(true, Ordering::Release);
    }
    set_log_level(max_level);
    INSTALLED.load(Ordering::Acquire)
}

/// Changes the level at and above which records are forwarded (the foreign
/// logger's level changed; `off` before interpreter / JVM shutdown).
#[uniffi::export]
pub fn set_log_level(max_level: String) {
    if INSTALLED.load(Ordering::Acquire) {
        log::set_max_level(level_filter(&max_level));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names() {
        assert_eq!(level_filter("WARN"), LevelFilter::Warn);
        assert_eq!(level_filter("debug"), LevelFilter::Debug);
        assert_eq!(level_filter("off"), LevelFilter::Off);
        assert_eq!(level_filter("nonsense"), LevelFilter::Off);
    }

    #[test]
    fn only_the_cores_targets() {
        assert!(is_core_target("tokenwell"));
        assert!(is_core_target("tokenwell::client::shared"));
        assert!(!is_core_target("tokenwell_extra"));
        assert!(!is_core_target("rustls::client"));
    }
}
