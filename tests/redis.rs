//! The Redis store against a real `redis-server` (Debian's package; `make test`
//! installs it). Each test starts its own server on a free loopback port and
//! kills it on drop; tests run one at a time (their timings are the point).
//! Requests are counted at the token endpoint: an in-process transport for
//! clients in this process, the mock provider binary for OS processes
//! (`tokenwell fleet-probe`).
//!
//! Without `redis-server` on the machine the tests skip with a message, unless
//! `CI` is set: then they fail.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokenwell::config::StoreOptions;
use tokenwell::fleet::{self, record, Keys};
use tokenwell::native::RedisStore;
use tokenwell::{ErrorKind, Event, EventSink, Store, TokenClient, TokenConfig};

#[path = "common/endpoint.rs"]
mod endpoint;
#[cfg(feature = "cli")]
#[path = "common/mock_process.rs"]
mod mock_process;
#[path = "common/redis_servers.rs"]
mod servers;

use endpoint::Endpoint;

use servers::{Access, Cluster, Sentinels};

// ---------------------------------------------------------------- the server

/// One test at a time: each measures time and counts requests.
static SERIAL: Mutex<()> = Mutex::new(());

/// This test's turn (for the tests that start servers other than [`Redis`]).
struct Serial {
    _guard: MutexGuard<'static, ()>,
}

impl Serial {
    fn take() -> Serial {
        Serial {
            _guard: SERIAL.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

/// A `redis-server` of this test, killed on drop.
struct Redis {
    child: Option<Child>,
    port: u16,
    args: Vec<String>,
    dir: PathBuf,
    password: Option<String>,
    _serial: MutexGuard<'static, ()>,
}

fn redis_server() -> Option<PathBuf> {
    servers::redis_binary("redis-server")
}

use servers::{free_port, temp_dir};

impl Redis {
    /// A plain server, or `None` (skip) when there is no redis-server.
    fn start() -> Option<Redis> {
        Redis::start_with(&[], None)
    }

    /// A server with `extra` arguments (TLS), and `password` if given.
    fn start_with(extra: &[String], password: Option<&str>) -> Option<Redis> {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let server = redis_server()?;
        let mut redis = Redis {
            child: None,
            port: 0,
            args: Vec::new(),
            dir: temp_dir("server"),
            password: password.map(str::to_owned),
            _serial: serial,
        };
        for _ in 0..5 {
            redis.port = free_port();
            let port = redis.port.to_string();
            let dir = redis.dir.to_str().unwrap().to_owned();
            redis.args = [
                server.to_str().unwrap(),
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
            ]
            .into_iter()
            .chain(["--save", "", "--appendonly", "no", "--dir", &dir])
            .chain(["--enable-debug-command", "local"])
            .map(str::to_owned)
            .chain(extra.iter().cloned())
            .chain(
                password
                    .map(|pw| ["--requirepass".to_owned(), pw.to_owned()])
                    .into_iter()
                    .flatten(),
            )
            .collect();
            if redis.spawn() {
                return Some(redis);
            }
            // The port was taken in between: another one.
            redis.stop();
        }
        panic!("redis-server does not start");
    }

    /// Starts the server process; whether it answers within 5 s.
    fn spawn(&mut self) -> bool {
        let child = Command::new(&self.args[0])
            .args(&self.args[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                return false; // exited: port taken
            }
            if self.ping() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn ping(&self) -> bool {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    /// `redis://[:password@]127.0.0.1:port`.
    fn url(&self) -> String {
        match &self.password {
            Some(pw) => format!("redis://:{pw}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// A plain connection for looking at what the store wrote.
    fn raw(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap()
    }

    /// Kills the server (SIGKILL: no goodbye to the clients).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    fn restart(&mut self) {
        self.stop();
        assert!(self.spawn(), "redis-server restarts on port {}", self.port);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------- clients in this process

#[derive(Default)]
struct Events(Mutex<Vec<String>>);

impl EventSink for Events {
    fn on_event(&self, event: &Event) {
        self.0.lock().unwrap().push(format!("{event:?}"));
    }
}

const SECRET: &str = "redis-fleet-secret-5d2a";

fn config(secret: &str, store: serde_json::Value) -> TokenConfig {
    TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox",
        "client_id": "redis-client", "client_secret": secret,
        "store": store
    }))
    .unwrap()
}

/// A client with a store of its own on `url` (as a process would have).
fn client(endpoint: &Arc<Endpoint>, url: &str, secret: &str) -> TokenClient {
    client_with(
        endpoint,
        serde_json::json!({"redis_url": url}),
        secret,
        None,
    )
}

fn client_with(
    endpoint: &Arc<Endpoint>,
    store: serde_json::Value,
    secret: &str,
    events: Option<Arc<Events>>,
) -> TokenClient {
    let mut b = TokenClient::builder(config(secret, store)).transport(endpoint.clone());
    if let Some(events) = events {
        b = b.on_event(events);
    }
    b.build().unwrap()
}

fn get(conn: &mut redis::Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(conn).unwrap()
}

// ------------------------------------------------------------ the tests

/// The core's rules, executed by the scripts: a record never replaces one
/// that expires later, a lock is released only by its owner, a record is
/// removed only for its own fingerprint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scripts_keep_the_cores_rules() {
    let Some(redis) = Redis::start() else { return };
    let store = RedisStore::new(&StoreOptions::default(), &redis.url().into()).unwrap();
    let mut raw = redis.raw();
    let (k, l) = ("t:{x}:t", "t:{x}:l");

    store.publish(k, "2000.aa.x", 60_000, None).await.unwrap();
    assert_eq!(get(&mut raw, k).as_deref(), Some("2000.aa.x"));
    store.publish(k, "1000.bb.y", 60_000, None).await.unwrap();
    assert_eq!(
        get(&mut raw, k).as_deref(),
        Some("2000.aa.x"),
        "an older record"
    );
    store.publish(k, "notarecord", 60_000, None).await.unwrap();
    assert_eq!(
        get(&mut raw, k).as_deref(),
        Some("2000.aa.x"),
        "a non-record"
    );
    store.publish(k, "2000.cc.z", 60_000, None).await.unwrap();
    assert_eq!(
        get(&mut raw, k).as_deref(),
        Some("2000.cc.z"),
        "as late: replaces"
    );
    let pttl: i64 = redis::cmd("PTTL").arg(k).query(&mut raw).unwrap();
    assert!((1..=60_000).contains(&pttl), "{pttl}");

    assert!(store.try_lock(l, "me", 60_000).await.unwrap());
    assert!(!store.try_lock(l, "you", 60_000).await.unwrap());
    store.unlock(l, "you").await.unwrap();
    assert_eq!(get(&mut raw, l).as_deref(), Some("me"));
    store
        .publish(k, "3000.dd.w", 60_000, Some((l, "you")))
        .await
        .unwrap();
    assert_eq!(get(&mut raw, k).as_deref(), Some("3000.dd.w"));
    assert_eq!(get(&mut raw, l).as_deref(), Some("me"), "not your lock");
    store
        .publish(k, "2500.ee.v", 60_000, Some((l, "me")))
        .await
        .unwrap();
    assert_eq!(get(&mut raw, k).as_deref(), Some("3000.dd.w"));
    assert_eq!(get(&mut raw, l), None, "released even when not written");

    store.remove_if(k, "zz").await.unwrap();
    assert_eq!(get(&mut raw, k).as_deref(), Some("3000.dd.w"));
    store.remove_if(k, "dd").await.unwrap();
    assert_eq!(get(&mut raw, k), None);

    let _: () = redis::cmd("SET")
        .arg(k)
        .arg("junk")
        .query(&mut raw)
        .unwrap();
    store.publish(k, "1.ff.u", 1_000, None).await.unwrap();
    assert_eq!(store.get(k).await.unwrap().as_deref(), Some("1.ff.u"));
    store.put(k, "v", 60_000).await.unwrap();
    store.delete(k).await.unwrap();
    assert_eq!(store.get(k).await.unwrap(), None);
    // A script flushed from the server's cache is loaded again (EVALSHA, then EVAL).
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut raw).unwrap();
    store.publish(k, "5.gg.t", 1_000, None).await.unwrap();
    assert_eq!(get(&mut raw, k).as_deref(), Some("5.gg.t"));
}

/// (c) Redis stopped mid-run: tokens keep coming, each process on its own;
/// restarted on the same port: the same clients share again by themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_costs_sharing_for_a_while_and_never_a_token() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let endpoint = Endpoint::new(0, 3600);
    let a = client(&endpoint, &redis.url(), SECRET);
    let b = client(&endpoint, &redis.url(), SECRET);
    let t1 = a.token().await.unwrap();
    a.settle().await;
    assert_eq!(b.token().await.unwrap(), t1, "shared");
    assert_eq!(endpoint.count(), 1);

    // Callers in both processes, all along.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|c| {
            let (stop, served) = (stop.clone(), served.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    c.token().await.expect("never an error while Redis is away");
                    served.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();

    redis.stop();
    let down = Instant::now();
    // Both drop the token (a 401) and each fetches a new one, without Redis.
    assert!(a.invalidate(t1.secret()));
    let t2 = a.token().await.unwrap();
    assert!(b.invalidate(t1.secret()));
    let t3 = b.token().await.unwrap();
    assert_ne!(t2, t3, "no store: each process fetched");
    assert_eq!(endpoint.count(), 3);
    println!("Redis down: two refreshes in {:?}", down.elapsed());

    redis.restart();
    // Sharing resumes by itself: once a breaker's open period ends, a refresh is
    // shared again on the same clients. On an idle machine that is the first
    // round; on a loaded one a stale connection or a slow answer can fail the
    // first calls after the restart, and each failure doubles the breaker's
    // period, so the rounds go on until its longest period has passed.
    let (mut ta, mut tb, mut resumed) = (t2, t3, false);
    let up = Instant::now();
    let give_up = up + Duration::from_millis(2 * fleet::breaker::MAX_OPEN_MS);
    while Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(fleet::breaker::FIRST_OPEN_MS + 200)).await;
        assert!(a.invalidate(ta.secret()));
        ta = a.token().await.unwrap();
        a.settle().await;
        assert!(b.invalidate(tb.secret()));
        tb = b.token().await.unwrap();
        if tb == ta {
            resumed = true;
            break;
        }
    }
    assert!(resumed, "shared again after the restart");
    println!("Redis back: sharing resumed after {:?}", up.elapsed());

    stop.store(true, Ordering::SeqCst);
    for c in callers {
        c.await.unwrap();
    }
    assert!(served.load(Ordering::SeqCst) > 10);
}

/// (d) A Redis that stalls (DEBUG SLEEP) costs a caller one time-box, then the
/// token comes from the endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_redis_costs_one_time_box() {
    let Some(redis) = Redis::start() else { return };
    let endpoint = Endpoint::new(0, 3600);
    let warm = client(&endpoint, &redis.url(), SECRET);
    let t1 = warm.token().await.unwrap();
    warm.invalidate(t1.secret());
    warm.settle().await;

    let mut sleeper = redis.raw();
    let sleeping = std::thread::spawn(move || {
        redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg(2)
            .query::<()>(&mut sleeper)
    });
    std::thread::sleep(Duration::from_millis(100));
    let budget = fleet::DEFAULT_STORE_TIMEOUT_MS + 300;

    // A connected client: its read waits one time-box, the rest fail at once.
    let started = Instant::now();
    let t2 = warm.token().await.unwrap();
    let connected = started.elapsed();
    assert_ne!(t2, t1);
    // A new client, connecting while Redis sleeps.
    let started = Instant::now();
    let cold = client(&endpoint, &redis.url(), SECRET);
    cold.token().await.unwrap();
    let cold_ms = started.elapsed();
    println!("stalled Redis: token() took {connected:?} (connected), {cold_ms:?} (connecting); time-box {} ms", fleet::DEFAULT_STORE_TIMEOUT_MS);
    for took in [connected, cold_ms] {
        assert!(took < Duration::from_millis(budget), "{took:?}");
    }
    sleeping.join().unwrap().unwrap();
}

/// (e) What Redis holds reveals neither token nor secret, and two tenants on
/// one Redis, one prefix, never see each other's tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_sealed_records_and_tenants_stay_apart() {
    let Some(redis) = Redis::start() else { return };
    let mut raw = redis.raw();
    let endpoint = Endpoint::new(0, 3600);
    let a = client(&endpoint, &redis.url(), SECRET);
    let token = a.token().await.unwrap();
    a.settle().await;
    let keys = Keys::new(fleet::DEFAULT_PREFIX, &a.cache_key());
    let stored = get(&mut raw, &keys.token).expect("published");
    assert!(!stored.contains(token.secret()), "{stored}");
    assert!(!stored.contains(SECRET) && !stored.contains("redis-client"));
    assert!(record::header(&stored).is_some());
    assert_eq!(get(&mut raw, &keys.lock), None, "the lock was released");

    // Another tenant: its own key, its own token.
    let other = "other-tenant-secret-91f0";
    let b = client(&endpoint, &redis.url(), other);
    let b_token = b.token().await.unwrap();
    b.settle().await;
    assert_ne!(b_token, token);
    let b_keys = Keys::new(fleet::DEFAULT_PREFIX, &b.cache_key());
    assert_ne!(b_keys.token, keys.token);
    let all: Vec<String> = redis::cmd("KEYS")
        .arg("tokenwell:*")
        .query(&mut raw)
        .unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    // A's record under B's key does not open for B: another fetch, not A's token.
    let _: () = redis::cmd("SET")
        .arg(&b_keys.token)
        .arg(&stored)
        .query(&mut raw)
        .unwrap();
    let b2 = client(&endpoint, &redis.url(), other);
    let b2_token = b2.token().await.unwrap();
    assert_ne!(b2_token, token);
    assert_eq!(endpoint.count(), 3);
}

/// Bytes the server has sent its clients so far.
fn sent_bytes(raw: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query(raw).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_net_output_bytes:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("INFO stats has total_net_output_bytes")
}

/// A record over the response limit is refused in Redis (never sent whole):
/// a miss, after which the client fetches and replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_record_is_a_miss_never_transferred_and_is_replaced() {
    let Some(redis) = Redis::start() else { return };
    let mut raw = redis.raw();
    let store = RedisStore::new(&StoreOptions::default(), &redis.url().into()).unwrap();
    let limit = record::MAX_RECORD_BYTES;
    let set = |raw: &mut redis::Connection, key: &str, value: &str| {
        let _: () = redis::cmd("SET").arg(key).arg(value).query(raw).unwrap();
    };
    set(&mut raw, "edge", &"x".repeat(limit));
    assert_eq!(
        store.get("edge").await.unwrap().map(|r| r.len()),
        Some(limit)
    );
    set(&mut raw, "over", &"x".repeat(limit + 1));
    let before = sent_bytes(&mut raw);
    let e = store
        .get("over")
        .await
        .map(|r| r.map(|r| r.len()))
        .unwrap_err();
    let sent = sent_bytes(&mut raw) - before;
    assert_eq!(e.kind(), ErrorKind::Store, "{e}");
    assert!(e.to_string().contains(&limit.to_string()), "{e}");
    assert!(sent < 4_096, "{sent} bytes sent for a refused record");

    let endpoint = Endpoint::new(0, 3600);
    let events = Arc::new(Events::default());
    let store_config = serde_json::json!({"redis_url": redis.url()});
    let keys = Keys::for_config(&config(SECRET, store_config.clone())).unwrap();
    set(&mut raw, &keys.token, &"x".repeat(limit + 1));
    let a = client_with(&endpoint, store_config, SECRET, Some(events.clone()));
    let token = a.token().await.unwrap();
    a.settle().await;
    assert_eq!(endpoint.count(), 1);
    let logged = events.0.lock().unwrap().join("\n");
    assert!(logged.contains("StoreFailed"), "{logged}");
    let stored = get(&mut raw, &keys.token).expect("replaced");
    assert!(stored.len() < limit && record::header(&stored).is_some());
    // The replacement is shared.
    let b = client(&endpoint, &redis.url(), SECRET);
    assert_eq!(b.token().await.unwrap(), token);
    assert_eq!(endpoint.count(), 1);
}

/// The URL's password never shows: not in `Debug`, not in a store failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_password_never_shows() {
    let password = "redis-pass-7Hq2";
    let Some(redis) = Redis::start_with(&[], Some(password)) else {
        return;
    };
    let endpoint = Endpoint::new(0, 3600);
    let events = Arc::new(Events::default());
    let wrong = format!("redis://:wrong-{password}@127.0.0.1:{}", redis.port);
    let c = client_with(
        &endpoint,
        serde_json::json!({"redis_url": wrong}),
        SECRET,
        Some(events.clone()),
    );
    c.token().await.expect("a refused password is a miss");
    let debug = format!("{c:?}");
    let logged = events.0.lock().unwrap().join("\n");
    assert!(logged.contains("StoreFailed"), "{logged}");
    for text in [&debug, &logged] {
        assert!(!text.contains(password), "{text}");
    }
    // The right one works.
    let a = client(&endpoint, &redis.url(), SECRET);
    let b = client(&endpoint, &redis.url(), SECRET);
    let t = a.token().await.unwrap();
    a.settle().await;
    assert_eq!(b.token().await.unwrap(), t);
    assert_eq!(endpoint.count(), 2);
}

/// The process's warnings, for the tests that check what the client says.
struct Warnings(Mutex<Vec<String>>);

impl log::Log for Warnings {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = record.args().to_string();
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }
    fn flush(&self) {}
}

static WARNINGS: Warnings = Warnings(Mutex::new(Vec::new()));

fn warnings() -> Vec<String> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&WARNINGS).expect("the only logger");
        log::set_max_level(log::LevelFilter::Warn);
    });
    WARNINGS.0.lock().unwrap().clone()
}

/// How long a cold client may take on a store that fails after the lock is
/// taken: one time-box, a few round trips on loopback, and its own fetch
/// (instant here): far below the lock's lapse (11 s at the default timeouts),
/// which a cold client that waited for the lock would take twice.
const COLD_BUDGET: Duration = Duration::from_millis(fleet::DEFAULT_STORE_TIMEOUT_MS + 700);

/// Three cold clients in a row, each a process of its own: each fetches its
/// own token within [`COLD_BUDGET`], and no lock is left behind.
async fn three_cold_clients(endpoint: &Arc<Endpoint>, url: &str, raw: &mut redis::Connection) {
    for n in 1..=3 {
        let started = Instant::now();
        let c = client(endpoint, url, SECRET);
        let token = c.token().await.unwrap();
        let took = started.elapsed();
        println!(
            "cold client {n}: {took:?}, endpoint requests so far {}",
            endpoint.count()
        );
        assert_eq!(token.secret(), format!("tok-{n}"));
        assert!(took < COLD_BUDGET, "cold client {n} took {took:?}");
        let keys = Keys::new(fleet::DEFAULT_PREFIX, &c.cache_key());
        assert_eq!(get(raw, &keys.lock), None, "the lock was released");
    }
    assert_eq!(endpoint.count(), 3);
}

/// A Redis user without scripting (`-@scripting`, as some managed Redis
/// setups configure): `SET NX` works, the scripts are refused (`NOPERM`). The
/// holder releases its lock without a script, the store is reported once with
/// the ACL rules it needs, and every cold client gets its token at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_scripting_never_leaves_the_lock_held() {
    let Some(redis) = Redis::start() else { return };
    let mut raw = redis.raw();
    let password = "noscript-pw-4c1d";
    let _: () = redis::cmd("ACL")
        .arg(&["SETUSER", "noscript", "on", &format!(">{password}")])
        .arg(&["~*", "+@all", "-@scripting"])
        .query(&mut raw)
        .unwrap();
    let url = format!("redis://noscript:{password}@127.0.0.1:{}", redis.port);
    let before = warnings().len();
    let endpoint = Endpoint::new(0, 3600);
    three_cold_clients(&endpoint, &url, &mut raw).await;
    let said = warnings()[before..].to_vec();
    let acl: Vec<_> = said
        .iter()
        .filter(|w| w.contains("refuses to run scripts"))
        .collect();
    assert_eq!(acl.len(), 1, "reported once: {said:#?}");
    assert!(
        acl[0].contains("+get +set +del +eval +evalsha +script|load ~tokenwell:*"),
        "{}",
        acl[0]
    );
    assert!(!said.iter().any(|w| w.contains(password)), "{said:#?}");
    // The same client again, once its record is gone: no lock taken, no wait.
    let c = client(&endpoint, &url, SECRET);
    c.token().await.unwrap();
    assert!(c.invalidate(&format!("tok-{}", endpoint.count())));
    let started = Instant::now();
    c.token().await.unwrap();
    assert!(started.elapsed() < COLD_BUDGET, "{:?}", started.elapsed());
}

/// A record key of another type (a list at the token key): every script and
/// `GET` on it fails with `WRONGTYPE`, the lock still works. The holder's
/// failed publish releases its lock, and every cold client gets its token at
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_key_of_another_type_never_leaves_the_lock_held() {
    let Some(redis) = Redis::start() else { return };
    let mut raw = redis.raw();
    let keys = Keys::for_config(&config(
        SECRET,
        serde_json::json!({"redis_url": redis.url()}),
    ))
    .unwrap();
    let _: () = redis::cmd("RPUSH")
        .arg(&keys.token)
        .arg("not-a-record")
        .query(&mut raw)
        .unwrap();
    let endpoint = Endpoint::new(0, 3600);
    three_cold_clients(&endpoint, &redis.url(), &mut raw).await;
}

/// A value under the token key that does not open for these credentials,
/// with a clear expiry far in the future (past 64 bits, then within them):
/// the next client to fetch replaces it, and sharing resumes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_does_not_open_never_blocks_publication() {
    let Some(redis) = Redis::start() else { return };
    let mut raw = redis.raw();
    let keys = Keys::for_config(&config(
        SECRET,
        serde_json::json!({"redis_url": redis.url()}),
    ))
    .unwrap();
    let endpoint = Endpoint::new(0, 3600);
    for (n, junk) in [
        "99999999999999999999.deadbeef.AAAA",
        "9999999999999999.deadbeef.AAAA",
    ]
    .into_iter()
    .enumerate()
    {
        let _: () = redis::cmd("SET")
            .arg(&keys.token)
            .arg(junk)
            .query(&mut raw)
            .unwrap();
        let a = client(&endpoint, &redis.url(), SECRET);
        let token = a.token().await.unwrap();
        assert_eq!(endpoint.count(), n + 1, "{junk}: one fetch");
        assert_ne!(
            get(&mut raw, &keys.token).as_deref(),
            Some(junk),
            "{junk}: replaced"
        );
        let b = client(&endpoint, &redis.url(), SECRET);
        assert_eq!(b.token().await.unwrap(), token, "{junk}: shared again");
        assert_eq!(endpoint.count(), n + 1, "{junk}: adopted");
    }
}

/// (f) `rediss://` with a private CA given as `store.ca_file`, as an ACL
/// user with only the documented rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca() {
    let dir = temp_dir("tls");
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    make_certificates(&ca, &cert, &key);
    let tls_port = free_port();
    let password = "tls-pass-3e9b";
    // An ACL user with only the documented rules.
    let user_pw = "tls-user-pw-58c0";
    let mut args: Vec<String> = [
        "--tls-port",
        &tls_port.to_string(),
        "--tls-cert-file",
        cert.to_str().unwrap(),
        "--tls-key-file",
        key.to_str().unwrap(),
        "--tls-ca-cert-file",
        ca.to_str().unwrap(),
        "--tls-auth-clients",
        "no",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(user_args(&format!(
        "tokenwell on >{user_pw} +get +set +del +eval +evalsha +script|load ~tokenwell:*"
    )));
    let Some(_redis) = Redis::start_with(&args, Some(password)) else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let url = format!("rediss://tokenwell:{user_pw}@localhost:{tls_port}");
    let store = serde_json::json!({"redis_url": url, "ca_file": ca.to_str().unwrap()});
    let endpoint = Endpoint::new(0, 3600);
    let events = Arc::new(Events::default());
    let a = client_with(&endpoint, store.clone(), SECRET, Some(events.clone()));
    let b = client_with(&endpoint, store, SECRET, Some(events.clone()));
    let t = a.token().await.unwrap();
    a.settle().await;
    assert_eq!(b.token().await.unwrap(), t, "shared over TLS");
    assert_eq!(endpoint.count(), 1);
    assert!(events
        .0
        .lock()
        .unwrap()
        .iter()
        .all(|e| !e.starts_with("StoreFailed")));

    // Without the CA the server is not trusted: a store failure, still a token.
    let untrusted = Arc::new(Events::default());
    let c = client_with(
        &endpoint,
        serde_json::json!({"redis_url": url}),
        SECRET,
        Some(untrusted.clone()),
    );
    c.token().await.unwrap();
    let logged = untrusted.0.lock().unwrap().join("\n");
    assert!(logged.contains("StoreFailed"), "{logged}");
    assert!(!logged.contains(user_pw), "{logged}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------ cluster and sentinel

/// `--user` and an ACL user's rules, one argument each (as redis.conf reads them).
fn user_args(rules: &str) -> Vec<String> {
    std::iter::once("--user")
        .chain(rules.split_whitespace())
        .map(str::to_owned)
        .collect()
}

/// A synchronous cluster connection for looking at what the store wrote.
fn raw_cluster(cluster: &Cluster) -> redis::cluster::ClusterConnection {
    let urls: Vec<String> = cluster
        .nodes
        .iter()
        .map(|n| cluster.access.url(n.port))
        .collect();
    let mut builder = redis::cluster::ClusterClientBuilder::new(urls);
    if let Some((ca, _)) = &cluster.access.tls {
        builder = builder.certs(redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(std::fs::read(ca).unwrap()),
        });
    }
    builder.build().unwrap().get_connection().unwrap()
}

fn cluster_get(conn: &mut redis::cluster::ClusterConnection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(conn).unwrap()
}

/// The store options of a cluster, as the default user or as `user`.
fn cluster_store(cluster: &Cluster, user: Option<(&str, &str)>) -> serde_json::Value {
    let port = cluster.nodes[0].port;
    let url = match user {
        Some(user) => cluster.access.url_as(Some(user), port),
        None => cluster.access.url(port),
    };
    let mut store = serde_json::json!({"redis_url": url, "cluster_nodes": cluster.addresses()});
    if let Some((ca, _)) = &cluster.access.tls {
        store["ca_file"] = ca.display().to_string().into();
    }
    store
}

/// The Redis Cluster end to end, on one cluster (3 primaries, 3 replicas):
/// the scripts' rules on cluster slots, one token shared, a user without
/// scripting (plain GET/DEL on the right nodes, one warning), and the key's
/// primary killed mid-run: no caller error, and at most one extra request
/// once the replica took over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_shares_one_token_and_rides_out_a_failover() {
    let _serial = Serial::take();
    let noscript_pw = "cluster-noscript-pw-7f2e";
    let user = format!("noscript on >{noscript_pw} ~* +@all -@scripting");
    let started = Instant::now();
    let Some(mut cluster) = Cluster::start(Access::default(), &user_args(&user)) else {
        return;
    };
    println!("cluster: 6 nodes up and healthy in {:?}", started.elapsed());
    let mut raw = raw_cluster(&cluster);

    // The scripts' rules, on keys of several slots.
    let options: StoreOptions = serde_json::from_value(cluster_store(&cluster, None)).unwrap();
    let store =
        RedisStore::new(&options, &cluster.access.url(cluster.nodes[0].port).into()).unwrap();
    for tag in ["a", "b", "c", "d"] {
        let (k, l) = (format!("t:{{{tag}}}:t"), format!("t:{{{tag}}}:l"));
        assert!(store.try_lock(&l, "me", 60_000).await.unwrap());
        assert!(!store.try_lock(&l, "you", 60_000).await.unwrap());
        store
            .publish(&k, "2000.aa.x", 60_000, Some((&l, "me")))
            .await
            .unwrap();
        assert_eq!(cluster_get(&mut raw, &l), None, "{tag}: released");
        store.publish(&k, "1000.bb.y", 60_000, None).await.unwrap();
        assert_eq!(store.get(&k).await.unwrap().as_deref(), Some("2000.aa.x"));
        store.remove_if(&k, "aa").await.unwrap();
        assert_eq!(cluster_get(&mut raw, &k), None, "{tag}: removed");
        // The request budget's counter: its own key, on its own slot.
        let (b, now) = (format!("t:{{{tag}}}:b"), 1_767_225_600_000);
        for at in [now, now + 1_000] {
            let spent = store.spend(&b, 2, 3_600_000, at).await.unwrap();
            assert_eq!(spent, tokenwell::Spend::Granted, "{tag}");
        }
        let refused = store.spend(&b, 2, 3_600_000, now + 2_000).await.unwrap();
        assert_eq!(
            refused,
            tokenwell::Spend::Refused {
                retry_after_ms: 3_598_000
            },
            "{tag}: the oldest request leaves the hour in 3598 s"
        );
    }

    // One token for every client.
    let endpoint = Endpoint::new(50, 3600);
    let store_json = cluster_store(&cluster, None);
    let clients: Vec<TokenClient> = (0..4)
        .map(|_| client_with(&endpoint, store_json.clone(), SECRET, None))
        .collect();
    let tokens = futures::future::join_all(clients.iter().map(|c| c.token())).await;
    let first = tokens[0].as_ref().unwrap().clone();
    assert!(tokens.iter().all(|t| t.as_ref().unwrap() == &first));
    assert_eq!(endpoint.count(), 1, "one request for the cluster's clients");

    // Without scripting: plain GET and DEL reach the key's node, one warning.
    let keys = Keys::for_config(&config(SECRET, store_json.clone())).unwrap();
    let before = warnings().len();
    // A prefix of its own: the warning is given once per prefix and process.
    let mut noscript = cluster_store(&cluster, Some(("noscript", noscript_pw)));
    noscript["key_prefix"] = "tokenwell-cluster".into();
    let noscript_keys = Keys::for_config(&config(SECRET, noscript.clone())).unwrap();
    let cold = Endpoint::new(0, 3600);
    for n in 1..=3 {
        let started = Instant::now();
        let c = client_with(&cold, noscript.clone(), SECRET, None);
        c.token().await.unwrap();
        assert!(
            started.elapsed() < COLD_BUDGET,
            "cold client {n}: {:?}",
            started.elapsed()
        );
        assert_eq!(
            cluster_get(&mut raw, &noscript_keys.lock),
            None,
            "the lock was released"
        );
    }
    let said = warnings()[before..].to_vec();
    let refused: Vec<_> = said
        .iter()
        .filter(|w| w.contains("refuses to run scripts"))
        .collect();
    assert_eq!(refused.len(), 1, "reported once: {said:#?}");
    assert!(
        refused[0].contains("+get +set +del +eval +evalsha +script|load ~tokenwell-cluster:*"),
        "{}",
        refused[0]
    );
    assert!(!said.iter().any(|w| w.contains(noscript_pw)), "{said:#?}");

    // The key's primary killed mid-run: callers keep getting tokens.
    let a = client_with(&endpoint, store_json.clone(), SECRET, None);
    let shared = a.token().await.unwrap();
    a.settle().await;
    let primary = cluster.primary_of(&keys.token);
    let before = endpoint.count();
    let killed_at = Instant::now();
    cluster.kill(primary);
    let mut during = 0;
    // Cold processes starting while the cluster fails over: each gets a token.
    while cluster.primary_of(&keys.token) == primary {
        let c = client_with(&endpoint, store_json.clone(), SECRET, None);
        c.token().await.unwrap();
        assert_eq!(
            a.token().await.unwrap(),
            shared,
            "a warm client is untouched"
        );
        during += 1;
        assert!(killed_at.elapsed() < Duration::from_secs(20), "no failover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failover = killed_at.elapsed();
    let during_requests = endpoint.count() - before;
    cluster.wait_healthy();
    let after_failover = endpoint.count();
    // Processes starting after the failover: they share (one fetch at most,
    // should the record have been lost with the primary).
    let late: Vec<TokenClient> = (0..5)
        .map(|_| client_with(&endpoint, store_json.clone(), SECRET, None))
        .collect();
    let mut late_tokens = Vec::new();
    for c in &late {
        late_tokens.push(c.token().await.unwrap());
        c.settle().await;
    }
    let extra = endpoint.count() - after_failover;
    println!(
        "cluster failover: promoted after {failover:?}; {during} cold clients during it made \
         {during_requests} request(s); 5 cold clients after it made {extra}"
    );
    assert!(
        extra <= 1,
        "at most one extra request per failover: {extra}"
    );
    assert!(
        late_tokens.iter().all(|t| t == &late_tokens[0]),
        "shared again"
    );
}

/// `rediss://` and an ACL user with only the documented rules, on a cluster
/// and on a standalone server: one token shared, no store failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_an_acl_user_with_the_documented_rules_on_a_cluster() {
    let _serial = Serial::take();
    let dir = temp_dir("cluster-tls");
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    make_certificates(&ca, &cert, &key);
    let tls_args: Vec<String> = [
        "--tls-cert-file",
        cert.to_str().unwrap(),
        "--tls-key-file",
        key.to_str().unwrap(),
        "--tls-ca-cert-file",
        ca.to_str().unwrap(),
        "--tls-auth-clients",
        "no",
    ]
    .map(str::to_owned)
    .to_vec();
    let access = Access {
        password: Some("cluster-admin-pw-1b7c".to_owned()),
        tls: Some((ca.clone(), tls_args)),
    };
    let pw = "cluster-tw-pw-90ad";
    let rules = format!("tokenwell on >{pw} {CLUSTER_ACL_RULES} ~tokenwell:*");
    let Some(cluster) = Cluster::start(access, &user_args(&rules)) else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let mut store = cluster_store(&cluster, Some(("tokenwell", pw)));
    // A cold client's first call connects to the nodes over TLS (about 240 ms
    // on loopback in a debug build): more than the default time-box on a
    // busy machine.
    store["timeout_ms"] = 2000.into();
    assert!(store["redis_url"]
        .as_str()
        .unwrap()
        .starts_with("rediss://tokenwell:"));
    let endpoint = Endpoint::new(0, 3600);
    let events = Arc::new(Events::default());
    let a = client_with(&endpoint, store.clone(), SECRET, Some(events.clone()));
    let cold = Instant::now();
    let t = a.token().await.unwrap();
    println!(
        "TLS cluster: a cold client's first token in {:?}",
        cold.elapsed()
    );
    a.settle().await;
    let b = client_with(&endpoint, store, SECRET, Some(events.clone()));
    assert_eq!(
        b.token().await.unwrap(),
        t,
        "shared over TLS on the cluster: {:?}",
        events.0.lock().unwrap()
    );
    assert_eq!(endpoint.count(), 1);
    let seen = events.0.lock().unwrap().join("\n");
    assert!(!seen.contains("StoreFailed"), "{seen}");
    assert!(!seen.contains(pw), "{seen}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What an ACL user needs on a cluster beyond a standalone server's rules:
/// the cluster client reads the slot map (`CLUSTER SLOTS`).
const CLUSTER_ACL_RULES: &str = "+get +set +del +eval +evalsha +script|load +cluster|slots";

/// Sentinel: the primary killed mid-run, then the old primary back as a
/// replica, then a planned failover (the client's connection is then to a
/// demoted primary, which answers writes with `READONLY`). No caller error;
/// sharing resumes within the failover time plus the breaker's backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failovers_never_fail_a_caller() {
    let _serial = Serial::take();
    let started = Instant::now();
    let Some(mut deployment) = Sentinels::start(Access::default()) else {
        return;
    };
    println!(
        "sentinel: primary, replica and 3 sentinels settled in {:?}",
        started.elapsed()
    );
    let primary = deployment.data[0].port;
    let store = serde_json::json!({
        "redis_url": deployment.access.url(primary),
        "sentinel": {"nodes": deployment.addresses(), "service": servers::SERVICE},
    });
    let endpoint = Endpoint::new(0, 3600);
    let a = client_with(&endpoint, store.clone(), SECRET, None);
    let b = client_with(&endpoint, store.clone(), SECRET, None);

    /// One round: `a` fetches a new token and publishes it; whether `b`
    /// then adopts it without a request of its own.
    async fn shared_round(a: &TokenClient, b: &TokenClient, endpoint: &Endpoint) -> bool {
        let old = a.token().await.unwrap();
        a.invalidate(old.secret());
        a.settle().await;
        let new = a.token().await.unwrap();
        a.settle().await;
        let before = endpoint.count();
        let seen = b.token().await.unwrap();
        if seen != new {
            b.invalidate(seen.secret());
            b.settle().await;
        }
        let adopted = b.token().await.unwrap();
        adopted == new && endpoint.count() == before
    }
    assert!(
        shared_round(&a, &b, &endpoint).await,
        "shared before any failover"
    );

    /// Rounds until one is shared again; returns how long it took and the
    /// rounds that were not shared (each client fetched its own token).
    async fn until_shared(
        a: &TokenClient,
        b: &TokenClient,
        endpoint: &Endpoint,
    ) -> (Duration, usize) {
        let since = Instant::now();
        let mut unshared = 0;
        while !shared_round(a, b, endpoint).await {
            unshared += 1;
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "sharing never resumed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (since.elapsed(), unshared)
    }

    // 1. The primary killed: the sentinels promote the replica.
    deployment.node(primary).kill();
    let (resumed, unshared) = until_shared(&a, &b, &endpoint).await;
    let replica = deployment.data[1].port;
    assert_eq!(deployment.primary_port(0), Some(replica), "promoted");
    println!(
        "sentinel kill: sharing resumed {resumed:?} after the kill \
         ({unshared} rounds unshared meanwhile, no caller error)"
    );
    // The failover (down-after 1 s, failover-timeout 3 s) plus the breaker's
    // longest backoff.
    assert!(resumed < Duration::from_secs(3 + 30), "{resumed:?}");

    // 2. The old primary back: the sentinels make it a replica.
    let restarted = Instant::now();
    deployment.node(primary).restart();
    deployment.wait_settled(replica);
    println!(
        "sentinel: the old primary back as a replica, in sync after {:?}",
        restarted.elapsed()
    );
    assert!(
        shared_round(&a, &b, &endpoint).await,
        "shared with the old primary a replica"
    );

    // 3. A planned failover back to it: the clients' connections are to a
    //    primary that is demoted to a replica (READONLY, or a closed
    //    connection): they ask the sentinels again.
    let mut sentinel = deployment.sentinel(0).unwrap();
    let _: () = redis::cmd("SENTINEL")
        .arg("FAILOVER")
        .arg(servers::SERVICE)
        .query(&mut sentinel)
        .unwrap();
    let switched = Instant::now();
    while deployment.primary_port(0) != Some(primary) {
        assert!(
            switched.elapsed() < Duration::from_secs(20),
            "no planned failover"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let switch = switched.elapsed();
    let (resumed, unshared) = until_shared(&a, &b, &endpoint).await;
    println!(
        "sentinel planned failover: switched in {switch:?}, then sharing resumed within \
         {resumed:?} ({unshared} rounds unshared)"
    );
    assert!(resumed < Duration::from_secs(30), "{resumed:?}");
}

/// A stand-in sentinel that names whichever primary the test says, and
/// answers every other command OK (it never demotes anyone itself).
struct FakeSentinel {
    port: u16,
    primary: Arc<std::sync::atomic::AtomicU16>,
}

impl FakeSentinel {
    fn start(primary: u16) -> FakeSentinel {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let named = Arc::new(std::sync::atomic::AtomicU16::new(primary));
        let shared = named.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let named = shared.clone();
                std::thread::spawn(move || FakeSentinel::serve(stream, &named));
            }
        });
        FakeSentinel {
            port,
            primary: named,
        }
    }

    /// Reads RESP commands (arrays of bulk strings) and answers each.
    fn serve(stream: TcpStream, primary: &std::sync::atomic::AtomicU16) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let Some(count) = line
                .trim()
                .strip_prefix('*')
                .and_then(|n| n.parse::<usize>().ok())
            else {
                return;
            };
            let mut words = Vec::new();
            for _ in 0..count {
                line.clear();
                reader.read_line(&mut line).unwrap_or(0);
                let len: usize = line.trim().trim_start_matches('$').parse().unwrap_or(0);
                let mut word = vec![0; len + 2];
                if reader.read_exact(&mut word).is_err() {
                    return;
                }
                words.push(String::from_utf8_lossy(&word[..len]).to_ascii_uppercase());
            }
            let reply = if words.first().map(String::as_str) == Some("SENTINEL") {
                let port = primary.load(Ordering::SeqCst).to_string();
                format!("*2\r\n$9\r\n127.0.0.1\r\n${}\r\n{port}\r\n", port.len())
            } else {
                "+OK\r\n".to_owned()
            };
            if writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// A primary demoted to a replica while the client's connection to it stays
/// open (no sentinel kills its clients): writes answer `READONLY`, and the
/// client asks the sentinels again at once instead of failing until the
/// connection breaks. The data nodes need a password: the one in `redis_url`
/// reaches the primary the sentinel names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readonly_answer_makes_the_client_ask_the_sentinels_again() {
    // The data nodes' password reaches the primary the sentinel names.
    let password = "sentinel-data-pw-2a6e";
    let access = Access {
        password: Some(password.to_owned()),
        tls: None,
    };
    let Some(first) = Redis::start_with(&[], Some(password)) else {
        return;
    };
    let second = {
        // Redis::start holds the serial lock: the second server is started
        // by hand, with the same arguments on another port.
        let port = free_port();
        let mut args = first.args.clone();
        let at = args.iter().position(|a| a == "--port").unwrap() + 1;
        args[at] = port.to_string();
        let dir = temp_dir("second");
        let at = args.iter().position(|a| a == "--dir").unwrap() + 1;
        args[at] = dir.to_str().unwrap().to_owned();
        let mut node = servers::Node::spawn(args, port);
        let deadline = Instant::now() + Duration::from_secs(5);
        while access.connect(port).is_err() {
            assert!(Instant::now() < deadline, "the second server starts");
            std::thread::sleep(Duration::from_millis(20));
        }
        node.keep_dir(dir);
        node
    };
    let sentinel = FakeSentinel::start(first.port);
    let store = serde_json::json!({
        "redis_url": first.url(),
        "sentinel": {"nodes": [format!("127.0.0.1:{}", sentinel.port)], "service": "any"},
    });
    let endpoint = Endpoint::new(0, 3600);
    let a = client_with(&endpoint, store.clone(), SECRET, None);
    let b = client_with(&endpoint, store, SECRET, None);
    let t = a.token().await.unwrap();
    a.settle().await;
    assert_eq!(b.token().await.unwrap(), t, "shared on the first primary");

    // The first primary becomes a replica of the second; the sentinel names
    // the second. The clients' connections to the first stay open.
    let mut raw = first.raw();
    let _: () = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(second.port)
        .query(&mut raw)
        .unwrap();
    sentinel.primary.store(second.port, Ordering::SeqCst);
    let before = endpoint.count();
    a.invalidate(t.secret());
    a.settle().await;
    let fresh = a.token().await.unwrap();
    a.settle().await;
    b.invalidate(t.secret());
    b.settle().await;
    assert_eq!(b.token().await.unwrap(), fresh, "shared on the new primary");
    assert_eq!(endpoint.count(), before + 1, "one fetch for both");
    let mut on_second = access.connect(second.port).unwrap();
    let keys = Keys::new(fleet::DEFAULT_PREFIX, &a.cache_key());
    assert!(
        get(&mut on_second, &keys.token).is_some(),
        "published there"
    );
}

fn make_certificates(ca: &Path, cert: &Path, key: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tokenwell test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuer = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server = params.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(ca, issuer.pem()).unwrap();
    std::fs::write(cert, server.pem()).unwrap();
    std::fs::write(key, server_key.serialize_pem()).unwrap();
}

// ------------------------------------------------- separate OS processes

#[cfg(feature = "cli")]
mod processes {
    use super::*;

    use super::mock_process::{start_mock, MockProcess as Mock, BIN};

    impl Mock {
        /// A probe config file: the deliveroo preset on the mock, this Redis.
        fn config(&self, dir: &Path, redis: &Redis, http: serde_json::Value) -> PathBuf {
            self.config_with_store(
                dir,
                serde_json::json!({"redis_url": redis.url(), "timeout_ms": 2000}),
                http,
            )
        }

        /// A probe config file: the deliveroo preset on the mock, this store.
        fn config_with_store(
            &self,
            dir: &Path,
            store: serde_json::Value,
            http: serde_json::Value,
        ) -> PathBuf {
            let file = dir.join("probe.json");
            let value = serde_json::json!({
                "provider": "deliveroo", "environment": "sandbox",
                "base_url": format!("{}/deliveroo", self.url),
                "client_id": "probe-client", "client_secret": SECRET,
                "store": store,
                "http": http,
            });
            std::fs::write(&file, value.to_string()).unwrap();
            file
        }
    }

    /// A `tokenwell fleet-probe` process, killed on drop.
    struct Probe(Child);

    impl Drop for Probe {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn probe(config: &Path, args: &[&str]) -> Probe {
        Probe(
            Command::new(BIN)
                .arg("fleet-probe")
                .arg("--config")
                .arg(config)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("probe starts"),
        )
    }

    /// One probe's output line(s), parsed as `key=value` maps.
    type Line = std::collections::HashMap<String, String>;

    impl Probe {
        /// Waits (at most `limit`) for the probe to exit successfully.
        fn lines(mut self, limit: Duration) -> Vec<Line> {
            let deadline = Instant::now() + limit;
            let status = loop {
                if let Some(status) = self.0.try_wait().unwrap() {
                    break status;
                }
                assert!(Instant::now() < deadline, "a probe outlived {limit:?}");
                std::thread::sleep(Duration::from_millis(10));
            };
            let mut out = String::new();
            let mut err = String::new();
            self.0
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            self.0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert!(status.success(), "probe failed: {err}\n{out}");
            out.lines()
                .map(|l| {
                    assert!(l.starts_with("ok "), "{l}");
                    l.split_whitespace()
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect()
                })
                .collect()
        }
    }

    fn ms(line: &Line) -> u64 {
        line["ms"].parse().unwrap()
    }

    fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    }

    /// (a) 8 processes × 50 concurrent callers, lined up on a cold cache: one
    /// token request for all of them.
    #[test]
    fn eight_processes_times_fifty_callers_make_one_request() {
        let Some(redis) = Redis::start() else { return };
        let mock = start_mock();
        // The fetch takes a while, so every process asks while it is in flight.
        mock.admin("POST", "/__admin/config", r#"{"latency_ms": 300}"#);
        let dir = temp_dir("fleet");
        let config = mock.config(&dir, &redis, serde_json::json!({}));
        eight_processes_times_fifty_callers(&mock, &config, 1_000, "8 processes x 50 callers");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// 8 processes of 50 callers each with `config`, lined up `lead_ms` from
    /// now on a cold cache: they all get the same token from one request.
    fn eight_processes_times_fifty_callers(mock: &Mock, config: &Path, lead_ms: i64, what: &str) {
        let start_at = (now_ms() + lead_ms).to_string();
        let probes: Vec<Probe> = (0..8)
            .map(|_| {
                probe(
                    config,
                    &["--callers", "50", "--start-at-unix-ms", &start_at],
                )
            })
            .collect();
        let lines: Vec<Line> = probes
            .into_iter()
            .flat_map(|p| p.lines(Duration::from_secs(20)))
            .collect();
        assert_eq!(lines.len(), 8);
        for line in &lines {
            assert_eq!(line["tokens"], "1", "{line:?}");
            assert_eq!(line["token"], lines[0]["token"], "one token for all");
        }
        let timings: Vec<u64> = lines.iter().map(ms).collect();
        println!(
            "{what}: {} request(s); per-process ms {timings:?}",
            mock.requests()
        );
        assert_eq!(mock.requests(), 1, "one request for the whole fleet");
    }

    /// 8 processes × 50 concurrent callers on a Redis Cluster, lined up on a
    /// cold cache: one token request for all of them.
    #[test]
    fn eight_processes_times_fifty_callers_on_a_cluster_make_one_request() {
        let _serial = Serial::take();
        let Some(cluster) = Cluster::start(Access::default(), &[]) else {
            return;
        };
        let mock = start_mock();
        mock.admin("POST", "/__admin/config", r#"{"latency_ms": 300}"#);
        let dir = temp_dir("cluster-fleet");
        let mut store = cluster_store(&cluster, None);
        store["timeout_ms"] = 2000.into();
        let config = mock.config_with_store(&dir, store, serde_json::json!({}));
        eight_processes_times_fifty_callers(
            &mock,
            &config,
            1_500,
            "cluster: 8 processes x 50 callers",
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// (b) The lock holder is killed mid-fetch: after the lock's TTL one
    /// waiter fetches, and everyone gets its token.
    #[test]
    fn waiters_survive_a_killed_lock_holder() {
        let Some(redis) = Redis::start() else { return };
        let mock = start_mock();
        // The holder's response never comes in time; then answers are quick.
        mock.admin(
            "POST",
            "/__admin/script",
            r#"{"responses": [{"json": {"access_token": "never-delivered", "token_type": "Bearer", "expires_in": 3600}, "delay_ms": 30000}]}"#,
        );
        let (connect_ms, timeout_ms) = (300, 1_000);
        let lock_ttl = connect_ms + timeout_ms + fleet::LOCK_MARGIN_MS;
        let dir = temp_dir("killed");
        let config = mock.config(
            &dir,
            &redis,
            serde_json::json!({"connect_timeout_ms": connect_ms, "timeout_ms": timeout_ms}),
        );
        let holder = probe(&config, &["--callers", "5"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while mock.requests() < 1 {
            assert!(Instant::now() < deadline, "the holder never fetched");
            std::thread::sleep(Duration::from_millis(10));
        }
        let holding_since = Instant::now();
        let waiters: Vec<Probe> = (0..4)
            .map(|_| probe(&config, &["--callers", "10"]))
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        drop(holder); // SIGKILL, mid-fetch, the lock still held
        let lines: Vec<Line> = waiters
            .into_iter()
            .flat_map(|p| p.lines(Duration::from_secs(20)))
            .collect();
        let all_done = holding_since.elapsed();
        assert_eq!(lines.len(), 4);
        for line in &lines {
            assert_eq!(line["tokens"], "1", "{line:?}");
            assert_eq!(line["token"], lines[0]["token"]);
            // Lock TTL, plus a poll, plus one fetch.
            assert!(
                ms(line) < lock_ttl + 1_000,
                "waited {line:?} (lock TTL {lock_ttl} ms)"
            );
        }
        let timings: Vec<u64> = lines.iter().map(ms).collect();
        println!(
            "killed holder: {} requests; waiters' ms {timings:?}; all done {all_done:?} after the holder's fetch (lock TTL {lock_ttl} ms)",
            mock.requests()
        );
        assert!(mock.requests() <= 2, "{}", mock.requests());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Fork safety: children of a process that used Redis connect on their own
    /// (the parent's connection stays with the parent) and share one refresh.
    #[cfg(unix)]
    #[test]
    fn forked_children_make_their_own_connections() {
        let Some(redis) = Redis::start() else { return };
        let mock = start_mock();
        mock.admin("POST", "/__admin/config", r#"{"latency_ms": 200}"#);
        let dir = temp_dir("fork");
        let config = mock.config(&dir, &redis, serde_json::json!({}));
        let lines =
            probe(&config, &["--callers", "20", "--fork", "4"]).lines(Duration::from_secs(20));
        assert_eq!(lines.len(), 5, "the parent and 4 children");
        // The parent prints first, before it forks.
        let (parent, children) = (&lines[0], &lines[1..]);
        assert!(children.iter().all(|c| c["pid"] != parent["pid"]));
        for child in children {
            assert_eq!(child["tokens"], "1");
            assert_ne!(
                child["token"], parent["token"],
                "the child dropped the parent's token"
            );
            assert_eq!(
                child["token"], children[0]["token"],
                "one refresh for all children"
            );
        }
        let timings: Vec<u64> = children.iter().map(ms).collect();
        println!(
            "fork: {} requests (parent 1, children together 1); children's ms {timings:?}",
            mock.requests()
        );
        // Children on the parent's connection would time out and each fetch.
        assert_eq!(mock.requests(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ---------------------------------------------------- the request budget

/// The request budget on a real Redis: clients with separate memories (each its
/// own `TokenClient` and its own connection) share one budget through the
/// store's counter, counted at the in-process mock provider.
#[cfg(feature = "mock")]
mod budget {
    use std::sync::Arc;
    use std::time::Instant;

    use tokenwell::mock::{MockOptions, MockServer};
    use tokenwell::{ErrorKind, ManualClock, TokenClient, TokenConfig};

    use super::Redis;

    fn config(mock: &MockServer, redis_url: &str, budget: u32) -> TokenConfig {
        TokenConfig::from_value(serde_json::json!({
            "provider": "custom",
            "client_id": "demo-client",
            "client_secret": "demo-secret-Zq81",
            "token_url": format!("{}/custom/token", mock.url()),
            "policy": {"max_requests_per_hour": budget},
            "store": {"redis_url": redis_url},
        }))
        .unwrap()
    }

    /// The budget's proof: 20 clients with separate memories fetch from the
    /// Toast mock, then each invalidates its token as after a 401, in a loop,
    /// for 60 s of manual time. The preset's budget (Toast's documented 2 an
    /// hour, no `policy` in the config): at most 2 token requests reach the
    /// mock, and no call fails while a token is valid.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn twenty_clients_invalidating_in_a_loop_stay_within_two_requests_an_hour() {
        let Some(redis) = Redis::start() else { return };
        let mock = MockServer::start(MockOptions::default()).await.unwrap();
        mock.set_lifetime_secs(Some(3600));
        let clock = Arc::new(ManualClock::new(1_767_225_600_000));
        let toast = TokenConfig::from_value(serde_json::json!({
            "provider": "toast",
            "base_url": format!("{}/toast", mock.url()),
            "client_id": "demo-client",
            "client_secret": "demo-secret-Zq81",
            "store": {"redis_url": redis.url()},
        }))
        .unwrap();
        let clients: Vec<TokenClient> = (0..20)
            .map(|_| {
                TokenClient::builder(toast.clone())
                    .clock(clock.clone())
                    .build()
                    .unwrap()
            })
            .collect();
        let started = Instant::now();
        let mut calls = 0;
        for second in 0..60 {
            // Every client asks at once, then every client's API call answers 401.
            let tokens = futures::future::join_all(clients.iter().map(|c| c.token())).await;
            for (client, token) in clients.iter().zip(tokens) {
                let token = token.unwrap_or_else(|e| {
                    panic!("second {second}: a caller failed while a token is valid: {e}")
                });
                calls += 1;
                client.invalidate(token.secret());
            }
            for client in &clients {
                client.settle().await;
            }
            clock.advance(1_000);
        }
        let requests = mock.request_count();
        println!(
            "{calls} token calls of 20 clients over 60 s of manual time: {requests} token requests \
             at the mock ({} ms real)",
            started.elapsed().as_millis()
        );
        assert!(requests <= 2, "{requests} token requests");
        assert_eq!(requests, 2, "the budget's two requests were used");
        drop(clients);
        mock.shutdown().await;
    }

    /// Without the store (down, or never configured) each client keeps its own
    /// budget: a spent one fails fast with rate_limited, the wait computed locally.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_the_store_down_each_client_keeps_its_own_budget() {
        let Some(mut redis) = Redis::start() else {
            return;
        };
        let mock = MockServer::start(MockOptions::default()).await.unwrap();
        mock.set_lifetime_secs(Some(3600));
        let url = redis.url();
        redis.stop();
        let clock = Arc::new(ManualClock::new(1_767_225_600_000));
        let client = TokenClient::builder(config(&mock, &url, 1))
            .clock(clock.clone())
            .build()
            .unwrap();
        let token = client.token().await.expect("the store's failure is a miss");
        client.invalidate(token.secret());
        // The invalidated token is still usable: served again, no request sent.
        let again = client.token().await.unwrap();
        assert_eq!(again.secret(), token.secret());
        client.invalidate(again.secret());
        clock.advance(3_600_000 - 1);
        let e = client.token().await.unwrap_err();
        assert_eq!(
            (e.kind(), e.status(), e.retry_after_ms()),
            (ErrorKind::RateLimited, None, Some(1))
        );
        assert!(e.detail().contains("in this process"), "{e}");
        assert_eq!(mock.request_count(), 1);
        mock.shutdown().await;
    }
}
