//! A simulated week of eight clients sharing one [`MemoryStore`], on a manual
//! clock, against an endpoint that fails at seeded random: 5xx (a 503 with or
//! without `Retry-After`), 429 (`Retry-After` as seconds, as an HTTP-date, or
//! absurd), time-outs and network errors, and otherwise grants tokens of lifetimes
//! from 10 s to a day. Callers come at random times, alone or several at once;
//! now and then one of them invalidates its token (an API's 401).
//!
//! Every answer is checked against a small reference model of the policy
//! written here from the README (not from the implementation): reuse until
//! 80 %, refresh ahead until `expiry − min(30 s, 10 %)`, one request per fetch
//! for any number of callers, tokens shared through the store (adopted while
//! before their refresh point, the later expiry kept), backoff from 1 s doubling
//! to 60 s with equal jitter and at least `Retry-After` (capped at an hour), the
//! last error served during the backoff.
//!
//! The backoff's jitter comes from the OS, so the model keeps each client's
//! backoff end as an interval; a decision that falls inside it (rare) is taken
//! from what the client did and checked to be one the policy allows. Every
//! other decision, and so the exact number of requests, is the model's.
//!
//! Independently of the model: no token is served at or after `expiry − skew`,
//! no client serves a token it invalidated, and no waiter is left pending.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde_json::json;
use tokenwell::HttpRequest;
use tokenwell::HttpResponse;
use tokenwell::{
    BoxFuture, ErrorKind, Event, ManualClock, MemoryStore, Result, Spawn, TokenClient, TokenConfig,
    Transport,
};

const T0: i64 = 1_767_225_600_000;
const WEEK_MS: u64 = 7 * 24 * 3600 * 1000;
const CLIENTS: usize = 8;
/// Each seed is one week (about 0.2 s in a debug build).
const SEEDS: [u64; 6] = [
    0x5eed_2026_0101,
    0x0bad_cafe_f00d,
    1,
    0xdead_beef,
    0x1234_5678_9abc,
    0x7,
];

/// xorshift64*: a tiny seeded generator, the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------- the world

/// What the endpoint did with one request.
#[derive(Clone, Debug)]
enum Outcome {
    Grant {
        token: String,
        lifetime_ms: u64,
    },
    Status {
        status: u16,
        retry_after_ms: Option<u64>,
    },
    Timeout,
    Network,
}

#[derive(Debug)]
struct Request {
    client: usize,
    at: u64,
    outcome: Outcome,
}

/// The token endpoint: seeded faults, every request logged.
struct Endpoint {
    rng: Mutex<Rng>,
    clock: Arc<ManualClock>,
    log: Mutex<Vec<Request>>,
}

impl Endpoint {
    fn answer(&self, client: usize) -> Result<HttpResponse> {
        let at = tokenwell::Clock::now_ms(&*self.clock);
        let unix = T0 + at as i64;
        let mut rng = self.rng.lock().unwrap();
        let n = self.log.lock().unwrap().len();
        let reply = |status: u16, headers: Vec<(String, String)>, body: serde_json::Value| {
            Ok(HttpResponse {
                status,
                headers,
                body: body.to_string().into_bytes(),
            })
        };
        let roll = rng.below(100);
        let (outcome, response) = match roll {
            0..=5 => {
                let status = rng.pick(&[500u16, 502]);
                let body = json!({"error": "server_error"});
                (
                    Outcome::Status {
                        status,
                        retry_after_ms: None,
                    },
                    reply(status, vec![], body),
                )
            }
            6..=10 => {
                let secs = rng.pick(&[None, Some(5u64), Some(30), Some(120)]);
                let headers: Vec<_> = secs
                    .map(|s| ("retry-after".to_owned(), s.to_string()))
                    .into_iter()
                    .collect();
                let body = json!({"error": "temporarily_unavailable"});
                let outcome = Outcome::Status {
                    status: 503,
                    retry_after_ms: secs.map(|s| s * 1000),
                };
                (outcome, reply(503, headers, body))
            }
            11..=15 => {
                // Seconds, an HTTP-date (whole seconds, read against the send
                // time), or absurd (capped at an hour).
                let (value, ms) = match rng.below(4) {
                    0 => ("18446744073709551615".to_owned(), 3_600_000),
                    1 => {
                        let secs = 1 + rng.below(90);
                        let at_s = unix.div_euclid(1000) + secs as i64;
                        let date =
                            std::time::UNIX_EPOCH + std::time::Duration::from_secs(at_s as u64);
                        (httpdate::fmt_http_date(date), (at_s * 1000 - unix) as u64)
                    }
                    _ => {
                        let secs = 1 + rng.below(120);
                        (secs.to_string(), secs * 1000)
                    }
                };
                let outcome = Outcome::Status {
                    status: 429,
                    retry_after_ms: Some(ms),
                };
                let headers = vec![("retry-after".to_owned(), value)];
                (outcome, reply(429, headers, json!({"error": "slow_down"})))
            }
            16..=20 => (
                Outcome::Timeout,
                Err(tokenwell::Error::new(
                    ErrorKind::Timeout,
                    "simulated time-out",
                )),
            ),
            21..=25 => (
                Outcome::Network,
                Err(tokenwell::Error::new(ErrorKind::Network, "simulated reset")),
            ),
            _ => {
                let secs = rng.pick(&[10u64, 60, 300, 1_800, 3_600, 86_400]);
                let token = format!("tok-{n}");
                let body =
                    json!({"access_token": token, "token_type": "Bearer", "expires_in": secs});
                let outcome = Outcome::Grant {
                    token,
                    lifetime_ms: secs * 1000,
                };
                (outcome, reply(200, vec![], body))
            }
        };
        self.log.lock().unwrap().push(Request {
            client,
            at,
            outcome,
        });
        response
    }
}

/// One client's transport: in flight across one poll (so that concurrent
/// callers really overlap), then the endpoint's answer.
struct Wire {
    endpoint: Arc<Endpoint>,
    client: usize,
}

#[async_trait::async_trait]
impl Transport for Wire {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse> {
        YieldOnce(false).await;
        self.endpoint.answer(self.client)
    }
}

struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A spawner the simulation drives: background work runs exactly when the
/// test says (after each step), so runs are deterministic.
#[derive(Default)]
struct Queue(Mutex<Vec<BoxFuture<'static, ()>>>);

impl Spawn for Queue {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.0.lock().unwrap().push(task);
    }
}

impl Queue {
    fn drain(&self) {
        loop {
            let tasks = std::mem::take(&mut *self.0.lock().unwrap());
            if tasks.is_empty() {
                return;
            }
            for task in tasks {
                let done =
                    futures::executor::block_on(tokenwell::platform::time_boxed(10_000, task));
                assert!(done.is_some(), "a background task never finished");
            }
        }
    }
}

// ---------------------------------------------------------------- the model

/// A token's schedule, from the README: refresh at 80 %, usable until
/// `expiry − min(30 s, 10 %)`.
#[derive(Clone, Debug)]
struct Tok {
    name: String,
    refresh_at: u64,
    usable_until: u64,
    expires_at: u64,
}

impl Tok {
    fn new(name: &str, sent: u64, lifetime: u64) -> Tok {
        let skew = (lifetime / 10).min(30_000);
        Tok {
            name: name.to_owned(),
            refresh_at: sent + lifetime * 8 / 10,
            usable_until: sent + lifetime - skew,
            expires_at: sent + lifetime,
        }
    }
}

#[derive(Default)]
struct ModelClient {
    current: Option<Tok>,
    failures: u32,
    /// The backoff ends somewhere in `[until_lo, until_hi]`.
    until_lo: u64,
    until_hi: u64,
    last_error: Option<&'static str>,
    revoked: Option<String>,
}

#[derive(Default)]
struct Stats {
    steps: u64,
    requests: u64,
    calls: u64,
    fetches: u64,
    adopted: u64,
    refreshes: u64,
    errors_served: u64,
    backoff_blocked: u64,
    jitter_decisions: u64,
    invalidations: u64,
}

struct Model {
    clients: Vec<ModelClient>,
    store: Option<Tok>,
    requests: usize,
    stats: Stats,
}

type Answer = std::result::Result<String, &'static str>;

impl Model {
    /// Whether client `c`'s backoff lets an attempt start at `now`; inside the
    /// jitter interval, `observed` (what the client did) decides, and narrows it.
    fn allows(&mut self, c: usize, now: u64, observed: bool) -> bool {
        let m = &mut self.clients[c];
        if now >= m.until_hi {
            return true;
        }
        if now < m.until_lo {
            return false;
        }
        self.stats.jitter_decisions += 1;
        if observed {
            m.until_hi = now;
        } else {
            m.until_lo = now + 1;
        }
        observed
    }

    fn succeed(&mut self, c: usize, tok: Tok) {
        let m = &mut self.clients[c];
        m.current = Some(tok);
        m.failures = 0;
        m.until_lo = 0;
        m.until_hi = 0;
        m.last_error = None;
    }

    fn fail(&mut self, c: usize, now: u64, code: &'static str, retry_after_ms: Option<u64>) {
        let m = &mut self.clients[c];
        let exp = 1_000u64.saturating_mul(1 << m.failures.min(30)).min(60_000);
        let half = exp / 2;
        let floor = retry_after_ms.unwrap_or(0).min(3_600_000);
        m.until_lo = now + half.max(floor);
        m.until_hi = now + (2 * half).max(floor);
        m.failures += 1;
        m.last_error = Some(code);
    }

    /// One fetch by client `c` at `now`: adopt the store's token if it is
    /// fresh and not one `c` dropped, else one request.
    fn fetch(&mut self, c: usize, now: u64, log: &[Request]) -> Answer {
        self.stats.fetches += 1;
        if let Some(stored) = self.store.clone().filter(|s| now < s.expires_at) {
            let dropped = self.clients[c].revoked.as_deref() == Some(stored.name.as_str());
            if !dropped && now < stored.refresh_at {
                self.stats.adopted += 1;
                let name = stored.name.clone();
                self.succeed(c, stored);
                return Ok(name);
            }
        }
        let request = log
            .get(self.requests)
            .unwrap_or_else(|| panic!("client {c} should have sent a request at {now} ms"));
        assert_eq!(
            (request.client, request.at),
            (c, now),
            "an unexpected request"
        );
        self.requests += 1;
        match &request.outcome {
            Outcome::Grant { token, lifetime_ms } => {
                let tok = Tok::new(token, now, *lifetime_ms);
                // The store keeps the later expiry of two live records.
                let keep = self
                    .store
                    .as_ref()
                    .is_some_and(|s| now < s.expires_at && s.expires_at > tok.expires_at);
                if !keep {
                    self.store = Some(tok.clone());
                }
                self.succeed(c, tok);
                Ok(token.clone())
            }
            Outcome::Status {
                status,
                retry_after_ms,
            } => {
                let code = if *status == 429 {
                    "rate_limited"
                } else {
                    "server_error"
                };
                self.fail(c, now, code, *retry_after_ms);
                Err(code)
            }
            Outcome::Timeout => {
                self.fail(c, now, "timeout", None);
                Err("timeout")
            }
            Outcome::Network => {
                self.fail(c, now, "network", None);
                Err("network")
            }
        }
    }

    /// What `k` concurrent callers of client `c` get at `now`, and the
    /// background refresh they may start. `fetched` is whether the client ran a
    /// fetch in this step (consulted only inside a jitter interval).
    fn burst(&mut self, c: usize, now: u64, fetched: bool, log: &[Request]) -> Answer {
        let current = self.clients[c].current.clone();
        if let Some(cur) = current.as_ref().filter(|t| now < t.refresh_at) {
            assert!(!fetched, "a fetch before the refresh point");
            return Ok(cur.name.clone());
        }
        if let Some(cur) = current.filter(|t| now < t.usable_until) {
            if self.allows(c, now, fetched) {
                self.stats.refreshes += 1;
                let _ = self.fetch(c, now, log);
            } else {
                assert!(!fetched, "a refresh during the backoff");
            }
            return Ok(cur.name);
        }
        let last_error = self.clients[c].last_error;
        if let Some(code) = last_error.filter(|_| !self.allows(c, now, fetched)) {
            assert!(!fetched, "a request during the backoff");
            self.stats.backoff_blocked += 1;
            return Err(code);
        }
        self.fetch(c, now, log)
    }

    fn invalidate(&mut self, c: usize, token: &str) -> bool {
        let m = &mut self.clients[c];
        if m.current.as_ref().is_none_or(|t| t.name != token) {
            return false;
        }
        m.current = None;
        m.revoked = Some(token.to_owned());
        if self.store.as_ref().is_some_and(|s| s.name == token) {
            self.store = None;
        }
        true
    }
}

// ---------------------------------------------------------------- the week

fn week(seed: u64) -> Stats {
    let clock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    let endpoint = Arc::new(Endpoint {
        rng: Mutex::new(Rng(seed ^ 0x9e37_79b9_7f4a_7c15)),
        clock: clock.clone(),
        log: Mutex::new(Vec::new()),
    });
    let queue = Arc::new(Queue::default());
    let config = json!({
        "provider": "custom", "token_url": "https://auth.example.com/token",
        "client_id": "sim-client", "client_secret": "sim-secret-Zq81",
        // Refresh points exactly at 80 %: the model has no randomness there.
        "policy": {"refresh_jitter_ratio": 0.0},
    });
    let fetched: Vec<Arc<Mutex<u32>>> = (0..CLIENTS).map(|_| Arc::default()).collect();
    let clients: Vec<TokenClient> = (0..CLIENTS)
        .map(|i| {
            let counter = fetched[i].clone();
            let sink = move |e: &Event| {
                if matches!(
                    e,
                    Event::Fetched { .. } | Event::FetchFailed { .. } | Event::RefreshFailed { .. }
                ) {
                    *counter.lock().unwrap() += 1;
                }
            };
            TokenClient::builder(TokenConfig::from_value(config.clone()).unwrap())
                .transport(Arc::new(Wire {
                    endpoint: endpoint.clone(),
                    client: i,
                }))
                .clock(clock.clone())
                .spawner(queue.clone())
                .store(store.clone())
                .on_event(Arc::new(sink))
                .build()
                .unwrap()
        })
        .collect();

    let mut model = Model {
        clients: (0..CLIENTS).map(|_| ModelClient::default()).collect(),
        store: None,
        requests: 0,
        stats: Stats::default(),
    };
    let mut rng = Rng(seed);
    // Every token granted (its schedule) and every token each client dropped.
    let mut granted: HashMap<String, Tok> = HashMap::new();
    let mut dropped: Vec<HashSet<String>> = vec![HashSet::new(); CLIENTS];
    let mut now = 0u64;
    let mut seen = 0;

    while now < WEEK_MS {
        // Bursts of traffic and quiet spells: about 10,000 steps a week.
        let gap = match rng.below(20) {
            0..=9 => rng.below(1_000),
            10..=15 => rng.below(20_000),
            16..=18 => rng.below(120_000),
            _ => rng.below(1_800_000),
        };
        clock.advance(gap);
        now += gap;
        let c = rng.below(CLIENTS as u64) as usize;
        model.stats.steps += 1;

        if rng.percent(8) {
            // An API answered 401: drop the current token (or, sometimes, an old one).
            let token = match (&model.clients[c].current, rng.percent(80)) {
                (Some(t), true) => t.name.clone(),
                _ => format!("tok-{}", rng.below(model.requests as u64 + 1)),
            };
            let dropped_now = clients[c].invalidate(&token);
            queue.drain();
            assert_eq!(
                dropped_now,
                model.invalidate(c, &token),
                "invalidate({token})"
            );
            if dropped_now {
                dropped[c].insert(token);
                model.stats.invalidations += 1;
            }
            continue;
        }

        let k = 1 + rng.below(4) as usize;
        *fetched[c].lock().unwrap() = 0;
        let calls = (0..k).map(|_| clients[c].token());
        let answers = futures::executor::block_on(tokenwell::platform::time_boxed(
            10_000,
            futures::future::join_all(calls),
        ))
        .expect("a waiter was left pending");
        queue.drain();
        let ran = *fetched[c].lock().unwrap();
        assert!(ran <= 1, "{ran} fetches in one step: single-flight broken");
        for r in &endpoint.log.lock().unwrap()[seen..] {
            if let Outcome::Grant { token, lifetime_ms } = &r.outcome {
                granted.insert(token.clone(), Tok::new(token, r.at, *lifetime_ms));
            }
            seen += 1;
        }
        let expected = {
            let log = endpoint.log.lock().unwrap();
            model.burst(c, now, ran == 1, &log)
        };
        model.stats.calls += k as u64;
        for answer in answers {
            let got: Answer = answer
                .as_ref()
                .map(|t| t.secret().to_owned())
                .map_err(|e| e.code());
            assert_eq!(
                got, expected,
                "seed {seed:#x}, step {}, client {c}, at {now} ms",
                model.stats.steps
            );
            if let Ok(token) = answer {
                let tok = &granted[token.secret()];
                assert!(
                    now < tok.usable_until,
                    "{} served past expiry − skew",
                    tok.name
                );
                assert!(now < tok.expires_at);
                assert!(
                    !dropped[c].contains(token.secret()),
                    "an invalidated token served"
                );
            } else {
                model.stats.errors_served += 1;
            }
        }
    }
    for client in &clients {
        futures::executor::block_on(client.settle());
    }
    queue.drain();
    let sent = endpoint.log.lock().unwrap().len();
    assert_eq!(
        sent, model.requests,
        "requests: the client's vs the model's"
    );
    model.stats.requests = sent as u64;
    model.stats
}

#[test]
fn a_week_of_eight_clients_matches_the_model() {
    let mut jitter_decisions = 0;
    for seed in SEEDS {
        let started = std::time::Instant::now();
        let s = week(seed);
        println!(
            "seed {seed:#x}: {} steps, {} calls, {} fetches ({} requests, {} adopted from the store, {} refreshes ahead), \
             {} errors served ({} within a backoff), {} invalidations, {} decisions inside a jitter interval, {:?}",
            s.steps, s.calls, s.fetches, s.requests, s.adopted, s.refreshes, s.errors_served, s.backoff_blocked,
            s.invalidations, s.jitter_decisions, started.elapsed()
        );
        // The week exercised every path.
        assert!(s.steps > 5_000 && s.adopted > 100 && s.refreshes > 100);
        assert!(s.backoff_blocked > 50 && s.invalidations > 100);
        jitter_decisions += s.jitter_decisions;
    }
    assert!(
        jitter_decisions > 0,
        "no decision fell inside a jitter interval"
    );
}
