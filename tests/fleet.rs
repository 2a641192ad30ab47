//! The fleet protocol through the public API, on the in-process reference
//! store: clients stand for processes (each its own memory tier and
//! single-flight), sharing one store. Requests are counted at a scripted
//! transport.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "common/endpoint.rs"]
mod endpoint;

use endpoint::Endpoint;
use tokenwell::fleet::{self, record, Keys};
use tokenwell::{
    Clock, Error, ErrorKind, Event, EventSink, ManualClock, MemoryStore, Result, Store,
    StoredToken, TokenClient, TokenConfig,
};

const SECRET: &str = "fleet-secret-9c1e";

fn config(secret: &str) -> TokenConfig {
    TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox",
        "client_id": "fleet-client", "client_secret": secret
    }))
    .unwrap()
}

fn client(
    endpoint: &Arc<Endpoint>,
    store: &Arc<dyn Store>,
    clock: Option<Arc<dyn Clock>>,
) -> TokenClient {
    let mut b = TokenClient::builder(config(SECRET))
        .transport(endpoint.clone())
        .store(store.clone());
    if let Some(clock) = clock {
        b = b.clock(clock);
    }
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_times_fifty_callers_make_one_request() {
    let endpoint = Endpoint::new(150, 3600);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let fleet: Vec<TokenClient> = (0..8).map(|_| client(&endpoint, &store, None)).collect();
    let calls = fleet
        .iter()
        .flat_map(|c| (0..50).map(move |_| c.token()))
        .collect::<Vec<_>>();
    let tokens = futures::future::join_all(calls).await;
    assert_eq!(endpoint.count(), 1, "one request for the whole fleet");
    assert!(tokens
        .iter()
        .all(|t| t.as_ref().unwrap().secret() == "tok-1"));
}

/// A store whose every call fails, or hangs.
struct Broken {
    hang: bool,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Store for Broken {
    async fn get(&self, _: &str) -> Result<Option<String>> {
        self.fail().await
    }
    async fn put(&self, _: &str, _: &str, _: u64) -> Result<()> {
        self.fail().await
    }
    async fn delete(&self, _: &str) -> Result<()> {
        self.fail().await
    }
    fn has_lock(&self) -> bool {
        true
    }
    async fn try_lock(&self, _: &str, _: &str, _: u64) -> Result<bool> {
        self.fail().await
    }
}

impl Broken {
    async fn fail<T>(&self) -> Result<T> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Err(Error::new(ErrorKind::Store, "connection refused"))
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<String>>);

impl EventSink for Events {
    fn on_event(&self, event: &Event) {
        self.0.lock().unwrap().push(format!("{event:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_is_a_miss_and_the_breaker_stops_asking_it() {
    let endpoint = Endpoint::new(0, 3600);
    let broken = Arc::new(Broken {
        hang: false,
        calls: AtomicUsize::new(0),
    });
    let store: Arc<dyn Store> = broken.clone();
    let events = Arc::new(Events::default());
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let client = TokenClient::builder(config(SECRET))
        .transport(endpoint.clone())
        .store(store)
        .clock(clock.clone())
        .on_event(events.clone())
        .build()
        .unwrap();
    for _ in 0..5 {
        let token = client
            .token()
            .await
            .expect("a store failure is never the caller's");
        assert!(token.secret().starts_with("tok-"));
        assert!(client.invalidate(token.secret()));
        client.settle().await;
    }
    assert_eq!(endpoint.count(), 5);
    // Three failures open the breaker: the store is not asked again while open.
    assert!(
        broken.calls.load(Ordering::SeqCst) <= 4,
        "{:?}",
        broken.calls
    );
    let logged = events.0.lock().unwrap();
    assert!(
        logged.iter().any(|e| e.starts_with("StoreFailed")),
        "{logged:?}"
    );
    // The lock could not be asked for: the process fetched beside it.
    assert!(
        logged
            .iter()
            .any(|e| e.starts_with("StoreLock") && e.contains("GaveUp")),
        "{logged:?}"
    );
    assert!(logged.iter().all(|e| !e.contains(SECRET)));
}

/// A record over the response limit is a store error whatever store returned
/// it: a valid, fresh record sealed for these credentials, but too long, is
/// not adopted; the client fetches and its record replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_record_is_a_miss_and_is_replaced() {
    let endpoint = Endpoint::new(0, 3600);
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn Store> = memory.clone();
    let events = Arc::new(Events::default());
    let a = TokenClient::builder(config(SECRET))
        .transport(endpoint.clone())
        .store(store.clone())
        .on_event(events.clone())
        .build()
        .unwrap();
    let keys = Keys::new(fleet::DEFAULT_PREFIX, &a.cache_key());
    let huge = StoredToken {
        access_token: "h".repeat(record::MAX_RECORD_BYTES).into(),
        token_type: "Bearer".into(),
        scope: None,
        issued_unix_ms: tokenwell::SystemClock.unix_ms(),
        lifetime_ms: 3_600_000,
    };
    let sealed = record::seal(&SECRET.into(), &a.cache_key(), &huge)
        .await
        .unwrap();
    assert!(sealed.len() > record::MAX_RECORD_BYTES);
    memory.put(&keys.token, &sealed, 3_600_000).await.unwrap();

    let token = a.token().await.unwrap();
    a.settle().await;
    assert!(
        token.secret() == "tok-1",
        "adopted the oversized record's token ({} bytes)",
        token.secret().len()
    );
    assert_eq!(endpoint.count(), 1);
    let logged = events.0.lock().unwrap().join("\n");
    assert!(logged.contains("StoreFailed"), "{logged}");
    let stored = memory.get(&keys.token).await.unwrap().unwrap();
    assert!(stored.len() < record::MAX_RECORD_BYTES);
    let b = client(&endpoint, &store, None);
    assert_eq!(b.token().await.unwrap().secret(), "tok-1");
    assert_eq!(endpoint.count(), 1);
}

/// An own store (publish in steps) whose `get` fails from its `ok_gets`-th
/// call on: after the holder's two reads (before the lock, and holding it),
/// the one inside its publish fails.
struct GetFailsLater {
    inner: MemoryStore,
    gets: AtomicUsize,
    ok_gets: usize,
}

#[async_trait::async_trait]
impl Store for GetFailsLater {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        if self.gets.fetch_add(1, Ordering::SeqCst) >= self.ok_gets {
            return Err(Error::new(ErrorKind::Store, "get failed"));
        }
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()> {
        self.inner.put(key, record, ttl_ms).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key).await
    }
    fn has_lock(&self) -> bool {
        true
    }
    async fn try_lock(&self, lock: &str, owner: &str, ttl_ms: u64) -> Result<bool> {
        self.inner.try_lock(lock, owner, ttl_ms).await
    }
    async fn unlock(&self, lock: &str, owner: &str) -> Result<()> {
        self.inner.unlock(lock, owner).await
    }
}

/// A publish that fails once the lock is taken releases the lock: the next
/// cold process takes it at once rather than wait for it to lapse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_publish_releases_the_lock() {
    let endpoint = Endpoint::new(0, 3600);
    let store = Arc::new(GetFailsLater {
        inner: MemoryStore::new(),
        gets: AtomicUsize::new(0),
        ok_gets: 2,
    });
    let shared: Arc<dyn Store> = store.clone();
    let a = client(&endpoint, &shared, None);
    assert_eq!(a.token().await.unwrap().secret(), "tok-1");
    assert_eq!(
        store.gets.load(Ordering::SeqCst),
        3,
        "the publish's read failed"
    );
    let keys = Keys::for_config(&config(SECRET)).unwrap();
    assert!(
        store
            .inner
            .try_lock(&keys.lock, "next", 60_000)
            .await
            .unwrap(),
        "the lock was released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_store_costs_at_most_its_time_box() {
    let endpoint = Endpoint::new(0, 3600);
    let store: Arc<dyn Store> = Arc::new(Broken {
        hang: true,
        calls: AtomicUsize::new(0),
    });
    let client = client(&endpoint, &store, None);
    let started = Instant::now();
    let token = client.token().await.unwrap();
    assert_eq!(token.secret(), "tok-1");
    // get and try_lock each time out (300 ms), then the fetch; publish is
    // skipped once the breaker opens or times out in the background.
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_adopt_the_holders_token_and_fetch_themselves_if_it_died() {
    let endpoint = Endpoint::new(0, 3600);
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn Store> = memory.clone();
    let probe = client(&endpoint, &store, None);
    let keys = Keys::new(fleet::DEFAULT_PREFIX, &probe.cache_key());
    // Another process holds the lock and publishes 300 ms later.
    assert!(memory.try_lock(&keys.lock, "other", 60_000).await.unwrap());
    let publisher = {
        let memory = memory.clone();
        let key = probe.cache_key();
        let token_key = keys.token.clone();
        let lock = keys.lock.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let stored = StoredToken {
                access_token: "from-holder".into(),
                token_type: "Bearer".into(),
                scope: None,
                issued_unix_ms: SystemNow::unix_ms(),
                lifetime_ms: 3_600_000,
            };
            let sealed = record::seal(&SECRET.into(), &key, &stored).await.unwrap();
            memory
                .publish(&token_key, &sealed, 3_600_000, Some((&lock, "other")))
                .await
                .unwrap();
        })
    };
    let events = Arc::new(Events::default());
    let waiter = TokenClient::builder(config(SECRET))
        .transport(endpoint.clone())
        .store(store.clone())
        .on_event(events.clone())
        .build()
        .unwrap();
    assert_eq!(waiter.token().await.unwrap().secret(), "from-holder");
    assert_eq!(endpoint.count(), 0);
    publisher.await.unwrap();
    let lock_outcomes = |events: &Events| -> Vec<String> {
        let seen = events.0.lock().unwrap();
        seen.iter()
            .filter(|e| e.starts_with("StoreLock") || e.starts_with("Fetched"))
            .map(|e| e.split(", waited_ms").next().unwrap_or(e).to_owned())
            .map(|e| e.split(", lifetime_ms").next().unwrap_or(&e).to_owned())
            .collect()
    };
    assert_eq!(
        lock_outcomes(&events),
        [
            "StoreLock { fetch_id: 1, outcome: Adopted",
            "Fetched { fetch_id: 1, reason: Adopted"
        ]
    );

    // A holder that dies: its lock expires after its TTL, then a waiter fetches.
    let endpoint = Endpoint::new(0, 3600);
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn Store> = memory.clone();
    let fast = TokenClient::builder(
        TokenConfig::from_value(serde_json::json!({
            "provider": "deliveroo", "environment": "sandbox",
            "client_id": "fleet-client", "client_secret": SECRET,
            "http": {"connect_timeout_ms": 100, "timeout_ms": 100}
        }))
        .unwrap(),
    )
    .transport(endpoint.clone())
    .store(store.clone())
    .on_event(events.clone())
    .build()
    .unwrap();
    events.0.lock().unwrap().clear();
    let keys = Keys::new(fleet::DEFAULT_PREFIX, &fast.cache_key());
    let lock_ttl = 100 + 100 + fleet::LOCK_MARGIN_MS;
    assert!(memory.try_lock(&keys.lock, "dead", lock_ttl).await.unwrap());
    let started = Instant::now();
    assert_eq!(fast.token().await.unwrap().secret(), "tok-1");
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(lock_ttl + 1_000),
        "{waited:?}"
    );
    assert_eq!(endpoint.count(), 1);
    // It waited, then took the lock that lapsed.
    assert_eq!(
        lock_outcomes(&events),
        [
            "StoreLock { fetch_id: 1, outcome: Waited",
            "Fetched { fetch_id: 1, reason: First"
        ]
    );
    // The next process finds no lock: it wins it at once (after a 401).
    events.0.lock().unwrap().clear();
    assert!(fast.invalidate("tok-1"));
    fast.settle().await;
    assert_eq!(fast.token().await.unwrap().secret(), "tok-2");
    assert_eq!(
        lock_outcomes(&events),
        [
            "StoreLock { fetch_id: 2, outcome: Won",
            "Fetched { fetch_id: 2, reason: After401"
        ]
    );
}

struct SystemNow;
impl SystemNow {
    fn unix_ms() -> i64 {
        tokenwell::SystemClock.unix_ms()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_sealed_and_tenants_never_read_each_other() {
    let endpoint = Endpoint::new(0, 3600);
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn Store> = memory.clone();
    let a = client(&endpoint, &store, None);
    let token = a.token().await.unwrap();
    a.settle().await;
    let keys = Keys::new(fleet::DEFAULT_PREFIX, &a.cache_key());
    let raw = memory.get(&keys.token).await.unwrap().expect("published");
    assert!(
        !raw.contains(token.secret()) && !raw.contains(SECRET),
        "{raw}"
    );
    assert!(!raw.contains("fleet-client"));

    // Another tenant (another secret): another key, and a record copied under its
    // key does not open for it.
    let b = TokenClient::builder(config("other-secret-77aa"))
        .transport(endpoint.clone())
        .store(store.clone())
        .build()
        .unwrap();
    assert_ne!(a.cache_key(), b.cache_key());
    let b_keys = Keys::new(fleet::DEFAULT_PREFIX, &b.cache_key());
    memory.put(&b_keys.token, &raw, 60_000).await.unwrap();
    assert_eq!(b.token().await.unwrap().secret(), "tok-2");
    assert!(
        record::open(&"other-secret-77aa".into(), &b.cache_key(), &raw)
            .await
            .is_none()
    );
    // Tampering with the clear header breaks the seal.
    let tampered = raw.replacen(|c: char| c.is_ascii_digit(), "9", 1);
    assert!(record::open(&SECRET.into(), &a.cache_key(), &tampered)
        .await
        .is_none());
    assert!(record::open(&SECRET.into(), &a.cache_key(), &raw)
        .await
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_removes_the_record_only_if_it_still_holds_that_token() {
    let endpoint = Endpoint::new(0, 3600);
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn Store> = memory.clone();
    let a = client(&endpoint, &store, None);
    let b = client(&endpoint, &store, None);
    let first = a.token().await.unwrap();
    assert!(a.invalidate(first.secret()));
    a.settle().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // b finds nothing to adopt and fetches a new token.
    let second = b.token().await.unwrap();
    assert_eq!(second.secret(), "tok-2");
    // An old token's 401 does not discard the newer record.
    assert!(!b.invalidate(first.secret()));
    let fresh = client(&endpoint, &store, None);
    assert_eq!(fresh.token().await.unwrap().secret(), "tok-2");
    assert_eq!(endpoint.count(), 2);
}

/// The in-process store, with deletes that take `delay` (a slow network store),
/// or panic (a buggy user store).
struct SlowDelete {
    inner: MemoryStore,
    delay: Duration,
    panics: bool,
}

#[async_trait::async_trait]
impl Store for SlowDelete {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()> {
        self.inner.put(key, record, ttl_ms).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        tokio::time::sleep(self.delay).await;
        assert!(!self.panics, "a buggy store's delete");
        self.inner.delete(key).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_waits_for_the_store_removal_invalidate_started() {
    let endpoint = Endpoint::new(0, 3600);
    let slow = Arc::new(SlowDelete {
        inner: MemoryStore::new(),
        delay: Duration::from_millis(300),
        panics: false,
    });
    let store: Arc<dyn Store> = slow.clone();
    // A time-box far above the slow delete: on a loaded machine the delete must
    // still finish, not time out and leave the record.
    let patient = TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox",
        "client_id": "fleet-client", "client_secret": SECRET,
        "store": {"timeout_ms": 10_000}
    }))
    .unwrap();
    let key = Keys::for_config(&patient).unwrap().token;
    let a = TokenClient::builder(patient)
        .transport(endpoint.clone())
        .store(store.clone())
        .build()
        .unwrap();
    let first = a.token().await.unwrap();
    assert!(slow.get(&key).await.unwrap().is_some());
    assert!(a.invalidate(first.secret()));
    // A second invalidate of the next token starts a second removal: settle waits for both.
    let second = a.token().await.unwrap();
    assert!(a.invalidate(second.secret()));
    let started = Instant::now();
    a.settle().await;
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "settle returned before the removal ended"
    );
    assert!(
        slow.get(&key).await.unwrap().is_none(),
        "the record is gone once settle returns"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_removal_that_panics_does_not_reach_settle() {
    let endpoint = Endpoint::new(0, 3600);
    let store: Arc<dyn Store> = Arc::new(SlowDelete {
        inner: MemoryStore::new(),
        delay: Duration::from_millis(50),
        panics: true,
    });
    let a = client(&endpoint, &store, None);
    let first = a.token().await.unwrap();
    assert!(a.invalidate(first.secret()));
    tokio::time::timeout(Duration::from_secs(5), a.settle())
        .await
        .expect("settle returns");
    assert_eq!(a.token().await.unwrap().secret(), "tok-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sealed_record_format_has_a_known_answer() {
    let vector: serde_json::Value =
        serde_json::from_str(include_str!("vectors/data/sealed-record.json")).unwrap();
    let secret = vector["client_secret"].as_str().unwrap();
    let probe = TokenClient::builder(TokenConfig::from_value(vector["config"].clone()).unwrap())
        .transport(Endpoint::new(0, 1))
        .build()
        .unwrap();
    let t = &vector["token"];
    let stored = StoredToken {
        access_token: t["access_token"].as_str().unwrap().into(),
        token_type: t["token_type"].as_str().unwrap().into(),
        scope: t["scope"].as_str().map(str::to_owned),
        issued_unix_ms: t["issued_unix_ms"].as_i64().unwrap(),
        lifetime_ms: t["lifetime_ms"].as_u64().unwrap(),
    };
    let nonce: [u8; 12] = hex(vector["nonce_hex"].as_str().unwrap())
        .try_into()
        .unwrap();
    let sealed = record::seal_with_nonce(&secret.into(), &probe.cache_key(), &stored, nonce)
        .await
        .unwrap();
    if std::env::var_os("TOKENWELL_BLESS").is_some() {
        let mut v = vector.clone();
        v["cache_key_hex"] = probe.cache_key().hex().into();
        v["record"] = sealed.clone().into();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/data/sealed-record.json"
        );
        std::fs::write(path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
        return;
    }
    assert_eq!(
        probe.cache_key().hex(),
        vector["cache_key_hex"].as_str().unwrap()
    );
    assert_eq!(sealed, vector["record"].as_str().unwrap());
    let opened = record::open(&secret.into(), &probe.cache_key(), &sealed)
        .await
        .unwrap();
    assert_eq!(opened, stored);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A day of a fleet of 8 on a manual clock: one refresh per refresh interval
/// for everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_day_of_eight_processes_refreshes_once_per_interval() {
    let lifetime_s = 3_600;
    for jitter in [0.0, 0.1] {
        let endpoint = Endpoint::new(0, lifetime_s);
        let clock = Arc::new(ManualClock::new(1_767_225_600_000));
        let memory: Arc<dyn Store> = Arc::new(MemoryStore::with_clock(clock.clone()));
        let fleet: Vec<TokenClient> = (0..8)
            .map(|_| {
                TokenClient::builder(
                    TokenConfig::from_value(serde_json::json!({
                        "provider": "deliveroo", "environment": "sandbox",
                        "client_id": "fleet-client", "client_secret": SECRET,
                        "policy": {"refresh_jitter_ratio": jitter}
                    }))
                    .unwrap(),
                )
                .transport(endpoint.clone())
                .store(memory.clone())
                .clock(clock.clone())
                .build()
                .unwrap()
            })
            .collect();
        let step_ms = 10_000;
        let day_ms = 86_400_000;
        let mut t = 0;
        while t < day_ms {
            for (i, client) in fleet.iter().enumerate() {
                // Each process serves a call now and then.
                if (t / step_ms + i as u64).is_multiple_of(3) {
                    let token = client.token().await.unwrap();
                    assert!(token.expires_at_unix_ms() > clock.unix_ms());
                }
            }
            for client in &fleet {
                client.settle().await;
            }
            clock.advance(step_ms);
            t += step_ms;
        }
        let interval_s = lifetime_s as f64 * 0.8;
        let expected = (86_400.0 / interval_s).ceil() as usize;
        let made = endpoint.count();
        println!("simulated day, jitter {jitter}: {made} requests (one per {interval_s} s interval: {expected})");
        if jitter == 0.0 {
            assert!(
                made.abs_diff(expected) <= 1,
                "jitter 0: {made} requests, expected {expected} ± 1"
            );
        } else {
            // The earliest of 8 jittered refresh points comes at most 10 % of
            // the lifetime earlier.
            let most = (86_400.0 / (lifetime_s as f64 * 0.7)).ceil() as usize + 1;
            assert!(
                (expected - 1..=most).contains(&made),
                "jitter 0.1: {made} requests, expected {expected}..={most}"
            );
        }
    }
}

/// The conformance vectors address a client's record and lock through
/// `Keys::for_config`: they must be the keys the client itself uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_for_a_config_are_the_keys_its_client_uses() {
    for prefix in [None, Some("acme")] {
        let mut json = serde_json::json!({
            "provider": "deliveroo", "environment": "sandbox",
            "client_id": "fleet-client", "client_secret": SECRET
        });
        if let Some(p) = prefix {
            json["store"] = serde_json::json!({ "key_prefix": p });
        }
        let keys = Keys::for_config(&TokenConfig::from_value(json.clone()).unwrap()).unwrap();
        let endpoint = Endpoint::new(0, 3600);
        let memory = Arc::new(MemoryStore::new());
        let store: Arc<dyn Store> = memory.clone();
        let client = TokenClient::builder(TokenConfig::from_value(json).unwrap())
            .transport(endpoint.clone())
            .store(store)
            .build()
            .unwrap();
        // Another process holds the lock under those keys: the client waits…
        assert!(memory.try_lock(&keys.lock, "other", 60_000).await.unwrap());
        let waiter = tokio::spawn(async move { client.token().await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiter.is_finished(), "{prefix:?}: the client did not wait");
        // …and adopts what it publishes under them.
        let stored = StoredToken {
            access_token: "published".into(),
            token_type: "Bearer".into(),
            scope: None,
            issued_unix_ms: SystemNow::unix_ms(),
            lifetime_ms: 3_600_000,
        };
        let key = TokenClient::builder(config(SECRET))
            .transport(endpoint.clone())
            .build()
            .unwrap()
            .cache_key()
            .clone();
        let sealed = record::seal(&SECRET.into(), &key, &stored).await.unwrap();
        memory
            .publish(&keys.token, &sealed, 3_600_000, Some((&keys.lock, "other")))
            .await
            .unwrap();
        let token = waiter.await.unwrap().unwrap();
        assert_eq!(token.secret(), "published", "{prefix:?}");
        assert_eq!(endpoint.count(), 0, "{prefix:?}");
    }
}
