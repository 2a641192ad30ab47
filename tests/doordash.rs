//! `provider: "doordash"`: the client mints its JWT without a transport,
//! caches and refreshes it like a fetched token on the injected clock, keeps it
//! out of a shared store, mints a new one after `invalidate`, and the mock's
//! DoorDash API route (an independent HMAC, aws-lc-rs) accepts what it mints.

#![cfg(feature = "mock")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use tokenwell::mock::{
    MockOptions, MockServer, DOORDASH_DEVELOPER_ID, DOORDASH_KEY_ID, DOORDASH_SIGNING_SECRET,
};
use tokenwell::request::HttpRequest;
use tokenwell::response::HttpResponse;
use tokenwell::{Event, ManualClock, MemoryStore, Result, TokenClient, TokenConfig, Transport};

/// A transport that must never be used: it counts and fails.
#[derive(Default)]
struct NoTransport(AtomicUsize);

#[async_trait::async_trait]
impl Transport for NoTransport {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(tokenwell::Error::new(
            tokenwell::ErrorKind::Network,
            "no transport",
        ))
    }
}

fn config(extra: Value) -> TokenConfig {
    let mut cfg = json!({
        "provider": "doordash",
        "developer_id": DOORDASH_DEVELOPER_ID,
        "key_id": DOORDASH_KEY_ID,
        "signing_secret": DOORDASH_SIGNING_SECRET,
    });
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    TokenConfig::from_value(cfg).unwrap()
}

/// The `Fetched` events' (status, lifetime_ms), in order.
type Fetches = Arc<Mutex<Vec<(Option<u16>, u64)>>>;

fn client(cfg: TokenConfig, clock: Arc<ManualClock>) -> (TokenClient, Arc<NoTransport>, Fetches) {
    let transport = Arc::new(NoTransport::default());
    let fetches = Fetches::default();
    let seen = fetches.clone();
    let client = TokenClient::builder(cfg)
        .transport(transport.clone())
        .clock(clock)
        .on_event(Arc::new(move |e: &Event| {
            if let Event::Fetched {
                status,
                lifetime_ms,
                ..
            } = e
            {
                seen.lock().unwrap().push((*status, *lifetime_ms));
            }
        }))
        .build()
        .unwrap();
    (client, transport, fetches)
}

fn claims(jwt: &str) -> (Value, Value) {
    let part = |i: usize| -> Value {
        let b = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    };
    (part(0), part(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_without_a_transport_and_cached_on_the_injected_clock() {
    let clock = Arc::new(ManualClock::new(1_767_225_600_000));
    let (c, transport, fetches) = client(config(json!({})), clock.clone());
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let first = c.token().await.unwrap();
    let (header, body) = claims(first.secret());
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["dd-ver"], "DD-JWT-V1");
    assert_eq!(header["kid"], DOORDASH_KEY_ID);
    assert_eq!(body["aud"], "doordash");
    assert_eq!(body["iss"], DOORDASH_DEVELOPER_ID);
    assert_eq!(body["kid"], DOORDASH_KEY_ID);
    // `iat` is the wall clock, not the manual clock's 2026.
    let iat = body["iat"].as_u64().unwrap();
    assert!(iat >= before && iat <= before + 5, "{iat} vs {before}");
    assert_eq!(body["exp"].as_u64().unwrap(), iat + 1800);
    assert_eq!(first.token_type(), "Bearer");

    // Cached: the same token until its refresh point on the manual clock.
    clock.advance(60_000);
    assert_eq!(c.token().await.unwrap().secret(), first.secret());
    assert_eq!(*fetches.lock().unwrap(), vec![(None, 1_799_000)]);
    // Past its lifetime on the manual clock: minted again.
    clock.advance(1_800_000);
    c.token().await.unwrap();
    c.settle().await;
    assert_eq!(fetches.lock().unwrap().len(), 2);
    assert_eq!(transport.0.load(Ordering::SeqCst), 0);
    assert!(c.status().token_usable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshed_ahead_in_the_background() {
    let clock = Arc::new(ManualClock::new(0));
    let (c, _, fetches) = client(config(json!({})), clock.clone());
    let first = c.token().await.unwrap();
    // Within the refresh window: the held token is served, one mint runs behind it.
    clock.advance(1_790_000);
    assert_eq!(c.token().await.unwrap().secret(), first.secret());
    c.settle().await;
    assert_eq!(fetches.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_lifetime_is_the_one_signed_and_cached() {
    let (c, _, fetches) = client(
        config(json!({"assertion": {"lifetime_secs": 600}})),
        Arc::new(ManualClock::new(0)),
    );
    let (_, body) = claims(c.token().await.unwrap().secret());
    assert_eq!(
        body["exp"].as_u64().unwrap() - body["iat"].as_u64().unwrap(),
        600
    );
    assert_eq!(*fetches.lock().unwrap(), vec![(None, 599_000)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_written_to_a_shared_store() {
    let store = Arc::new(MemoryStore::new());
    let cfg = config(json!({}));
    let keys = tokenwell::fleet::Keys::for_config(&cfg).unwrap();
    let c = TokenClient::builder(cfg)
        .transport(Arc::new(NoTransport::default()))
        .store(store.clone())
        .build()
        .unwrap();
    let token = c.token().await.unwrap();
    assert!(c.invalidate(token.secret()));
    c.token().await.unwrap();
    c.settle().await;
    assert_eq!(
        tokenwell::Store::get(&*store, &keys.token).await.unwrap(),
        None
    );
    assert_eq!(
        tokenwell::Store::get(&*store, &keys.lock).await.unwrap(),
        None
    );
    assert!(c.status().store.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_accepts_it_and_a_401_then_invalidate_mints_a_new_one() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let url = format!("{}/doordash/drive/v2/deliveries/d-1", mock.url());
    let http = reqwest::Client::new();
    let call = |token: String| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (c, _, fetches) = client(config(json!({})), Arc::new(ManualClock::new(0)));
    let token = c.token().await.unwrap();
    assert_eq!(call(token.secret().to_owned()).await, 200);

    mock.doordash(Some(1));
    assert_eq!(call(token.secret().to_owned()).await, 401);
    assert!(c.invalidate(token.secret()));
    let next = c.token().await.unwrap();
    assert_eq!(fetches.lock().unwrap().len(), 2);
    assert_eq!(call(next.secret().to_owned()).await, 200);

    // The route checks the signature and the claims, not only the shape.
    let (h, _) = token.secret().rsplit_once('.').unwrap();
    assert_eq!(call(format!("{h}.AAAA")).await, 401);
    let other = TokenClient::builder(config(json!({"signing_secret": "b3RoZXI"})))
        .build()
        .unwrap();
    assert_eq!(
        call(other.token().await.unwrap().secret().to_owned()).await,
        401
    );
    let wrong_iss = TokenClient::builder(config(json!({"developer_id": "someone-else"})))
        .build()
        .unwrap();
    assert_eq!(
        call(wrong_iss.token().await.unwrap().secret().to_owned()).await,
        401
    );
    assert_eq!(mock.doordash(None)["accepted"], 2);
    assert_eq!(mock.request_count(), 0);
    mock.shutdown().await;
}

#[test]
fn the_signing_secret_is_never_printed() {
    let cfg = config(json!({}));
    assert!(!format!("{cfg:?}").contains(DOORDASH_SIGNING_SECRET));
    let c = TokenClient::new(cfg).unwrap();
    for text in [format!("{c:?}"), c.describe(), format!("{:?}", c.profile())] {
        assert!(!text.contains(DOORDASH_SIGNING_SECRET), "{text}");
    }
    assert!(
        c.describe().contains("provider=doordash"),
        "{}",
        c.describe()
    );
    // A bad secret's error names the key, never the value.
    let bad = "not*base64url*secret";
    let err = TokenClient::new(config(json!({"signing_secret": bad}))).unwrap_err();
    assert_eq!(err.code(), "config");
    assert!(err.to_string().contains("signing_secret") && !err.to_string().contains(bad));
}
