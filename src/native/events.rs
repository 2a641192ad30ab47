//! Events for Python and Kotlin: the uniffi foreign trait [`EventListener`] and
//! the sink that feeds it, off the fetch path.
//!
//! - **Hits and misses are counted**, never delivered: they happen on every
//!   call. The counters are read at collection time ([`Lookups`]).
//! - **Every other event is queued**, and one thread per process (a forked
//!   child starts its own) hands them to the listeners in order. The queue is
//!   bounded ([`QUEUE_CAPACITY`]): a listener that blocks delays only other
//!   listeners' events, and once the queue is full new events are dropped and
//!   counted, never waited for.
//! - **Or a thread of the binding's takes them** ([`deliver_events_by_pull`],
//!   [`next_events`]): Python's. A thread Python did not start must never call
//!   into it, since an interpreter that finalises while such a thread waits
//!   for its lock ends that thread under Rust's frames and aborts the process;
//!   a Python thread that returns from [`next_events`] holds no Rust frame.
//! - **A fetch's start is also told at once**, on the thread of the caller that
//!   started it ([`EventListener::on_fetch_started`]), so a binding can read
//!   that caller's trace context; the binding must return at once.
//! - A listener that panics or throws costs that event only.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::events::{Event, EventSink};
use crate::records::CoreEvent;

/// Events waiting for the listeners' thread, at most.
pub const QUEUE_CAPACITY: usize = 4096;

/// Receives a client's events (implemented by the Python and Kotlin wrappers).
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    /// An event, on tokenwell's event thread: never on the fetch path.
    fn on_event(&self, event: CoreEvent);

    /// A fetch that the calling thread's call started (`fetch_started`), told
    /// on that thread before anything is awaited, so the binding can read the
    /// caller's context (a trace's parent). Return at once: the caller waits.
    fn on_fetch_started(&self, fetch_id: u64, reason: String, at_unix_ms: i64);
}

/// How a client's lookups went, counted since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, uniffi::Record)]
pub struct Lookups {
    /// Fresh cached tokens handed out by the core.
    pub hits: u64,
    /// Tokens past their refresh point handed out while a refresh runs.
    pub stale: u64,
    /// Callers that waited for a fetch.
    pub misses: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
}

/// An event for the listener numbered `listener_id` ([`ListenerSink::id`]),
/// taken by a binding's thread from [`next_events`].
#[derive(uniffi::Record)]
pub struct PulledEvent {
    /// Whose event it is.
    pub listener_id: u64,
    /// The event.
    pub event: CoreEvent,
}

/// The [`EventSink`] of a client with a listener.
pub struct ListenerSink {
    id: u64,
    listener: Arc<dyn EventListener>,
    clock: Arc<dyn Clock>,
    hits: AtomicU64,
    stale: AtomicU64,
    misses: AtomicU64,
    dropped: AtomicU64,
}

impl ListenerSink {
    /// A sink for `listener`, stamping events with `clock`'s wall time.
    pub fn new(listener: Arc<dyn EventListener>, clock: Arc<dyn Clock>) -> ListenerSink {
        static IDS: AtomicU64 = AtomicU64::new(1);
        ListenerSink {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            listener,
            clock,
            hits: AtomicU64::new(0),
            stale: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// The number that tells its events apart in [`next_events`].
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The counters so far.
    pub fn lookups(&self) -> Lookups {
        Lookups {
            hits: self.hits.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

impl EventSink for ListenerSink {
    fn on_event(&self, event: &Event) {
        let count = |counter: &AtomicU64| {
            counter.fetch_add(1, Ordering::Relaxed);
        };
        match event {
            Event::Hit { stale: false, .. } => return count(&self.hits),
            Event::Hit { .. } => return count(&self.stale),
            Event::Miss => return count(&self.misses),
            _ => {}
        }
        let at = self.clock.unix_ms();
        // Not once delivery closed: the host runtime may be finalising.
        if let (
            Event::FetchStarted {
                fetch_id, reason, ..
            },
            false,
        ) = (event, CLOSED.load(Ordering::Acquire))
        {
            let listener = &self.listener;
            let _ = catch_unwind(AssertUnwindSafe(|| {
                listener.on_fetch_started(*fetch_id, reason.code().to_owned(), at)
            }));
        }
        if !offer(self, CoreEvent::new(event, at)) {
            count(&self.dropped);
        }
    }
}

/// A queued event: for a listener the event thread calls, or for one whose
/// binding pulls (by number only: dropping the listener's last reference on a
/// binding's thread would call into it from under Rust's frames).
enum Queued {
    Called(Arc<dyn EventListener>, CoreEvent),
    Pulled(PulledEvent),
}

/// One process generation's queue: its sender, and in pull mode its receiver
/// (otherwise the event thread's).
struct Generation {
    generation: u64,
    sender: SyncSender<Queued>,
    pulled: Option<Mutex<Receiver<Queued>>>,
}

/// This process generation's queue, published without a lock (leaked: a
/// forked child makes its own, and a lock held by a parent's thread at the
/// fork would never be released in the child).
static QUEUE: AtomicPtr<Generation> = AtomicPtr::new(std::ptr::null_mut());
/// Set when the host runtime is shutting down: nothing more is delivered.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once a binding takes the events with its own thread ([`next_events`]).
static PULLED: AtomicBool = AtomicBool::new(false);

/// Stops delivering events for good (the interpreter or JVM is exiting:
/// calling into it from another thread could abort the process).
pub fn close() {
    CLOSED.store(true, Ordering::Release);
}

/// From now on, this process's events wait for [`next_events`] instead of
/// being handed to the listeners by tokenwell's event thread. Call it before
/// building a client with a listener.
#[uniffi::export]
pub fn deliver_events_by_pull() {
    PULLED.store(true, Ordering::Release);
}

/// Up to `max` queued events, waiting up to `timeout_ms` for the first (none
/// if none came, or delivery is closed). For one thread of the binding's.
#[uniffi::export]
pub fn next_events(max: u32, timeout_ms: u64) -> Vec<PulledEvent> {
    let Some(receiver) = current().and_then(|g| g.pulled.as_ref()) else {
        std::thread::sleep(Duration::from_millis(timeout_ms));
        return Vec::new();
    };
    let receiver = receiver.lock().unwrap_or_else(|e| e.into_inner());
    let mut events = Vec::new();
    let mut next = receiver.recv_timeout(Duration::from_millis(timeout_ms));
    while !CLOSED.load(Ordering::Acquire) {
        match next {
            Ok(Queued::Pulled(event)) => events.push(event),
            Ok(Queued::Called(..)) => {}
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
        if events.len() >= max as usize {
            break;
        }
        next = receiver
            .try_recv()
            .map_err(|_| RecvTimeoutError::Disconnected);
    }
    events
}

/// This process generation's queue (made, with its thread unless pulled, on
/// first use); `None` if its thread could not start.
fn current() -> Option<&'static Generation> {
    let generation = super::process::generation();
    let existing = QUEUE.load(Ordering::Acquire);
    // SAFETY: a published `Generation` is leaked, so the pointer stays valid.
    if let Some(g) = unsafe { existing.as_ref() } {
        if g.generation == generation {
            return Some(g);
        }
    }
    // None yet, or the parent's (its thread is not in a forked child).
    let (sender, receiver) = sync_channel::<Queued>(QUEUE_CAPACITY);
    let pulled = if PULLED.load(Ordering::Acquire) {
        Some(Mutex::new(receiver))
    } else {
        let spawned = std::thread::Builder::new()
            .name("tokenwell-events".into())
            .spawn(move || {
                for queued in receiver {
                    if CLOSED.load(Ordering::Acquire) {
                        break;
                    }
                    if let Queued::Called(listener, event) = queued {
                        let _ = catch_unwind(AssertUnwindSafe(|| listener.on_event(event)));
                    }
                }
            });
        spawned.ok()?;
        None
    };
    let fresh = Box::into_raw(Box::new(Generation {
        generation,
        sender,
        pulled,
    }));
    match QUEUE.compare_exchange(existing, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: published, hence leaked.
        Ok(_) => Some(unsafe { &*fresh }),
        Err(won) => {
            // Another thread published this generation's first: ours goes (its
            // thread, if any, ends with its sender).
            // SAFETY: `fresh` was never published.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: a published `Generation` is leaked.
            unsafe { won.as_ref() }
        }
    }
}

/// Queues `event` for `sink`'s listener; false if it was dropped.
fn offer(sink: &ListenerSink, event: CoreEvent) -> bool {
    if CLOSED.load(Ordering::Acquire) {
        return false;
    }
    let Some(queue) = current() else {
        return false;
    };
    let queued = match queue.pulled {
        Some(_) => Queued::Pulled(PulledEvent {
            listener_id: sink.id,
            event,
        }),
        None => Queued::Called(sink.listener.clone(), event),
    };
    match queue.sender.try_send(queued) {
        Ok(()) => true,
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::events::FetchReason;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    struct Blocking {
        seen: Mutex<std::sync::mpsc::Sender<String>>,
        gate: Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl EventListener for Blocking {
        fn on_event(&self, event: CoreEvent) {
            let _ = self.seen.lock().unwrap().send(event.name);
            let _ = self
                .gate
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(10));
        }
        fn on_fetch_started(&self, fetch_id: u64, _: String, _: i64) {
            let _ = self
                .seen
                .lock()
                .unwrap()
                .send(format!("started:{fetch_id}"));
        }
    }

    #[test]
    fn a_blocked_listener_never_blocks_the_emitter_and_a_full_queue_drops() {
        let (seen_tx, seen) = channel();
        let (gate_tx, gate) = channel();
        let listener = Arc::new(Blocking {
            seen: Mutex::new(seen_tx),
            gate: Mutex::new(gate),
        });
        let sink = ListenerSink::new(listener, Arc::new(ManualClock::new(0)));
        sink.on_event(&Event::Hit { stale: false });
        sink.on_event(&Event::Miss);
        sink.on_event(&Event::FetchStarted {
            fetch_id: 7,
            reason: FetchReason::First,
        });
        // Told at once on this thread, then queued.
        assert_eq!(seen.recv().unwrap(), "started:7");
        assert_eq!(
            seen.recv_timeout(Duration::from_secs(5)).unwrap(),
            "fetch_started"
        );
        // The listener now blocks: the emitter goes on, and past the queue's
        // capacity events are dropped and counted.
        let started = std::time::Instant::now();
        for _ in 0..QUEUE_CAPACITY + 10 {
            sink.on_event(&Event::RefreshStarted { fetch_id: 1 });
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        let lookups = sink.lookups();
        assert_eq!((lookups.hits, lookups.misses), (1, 1));
        assert!(lookups.dropped >= 10, "{lookups:?}");
        drop(gate_tx);
    }
}
