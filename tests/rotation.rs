//! Secrets that rotate without a restart: `client_secret_file` and a
//! credential provider, on a manual clock with a scripted transport (and the
//! mock, whose client secret an admin call rotates as Bringg does).

#[allow(dead_code)] // only its log capture
mod common;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokenwell::mock::{MockOptions, MockServer};
use tokenwell::native::TokioSpawner;
use tokenwell::request::HttpRequest;
use tokenwell::response::HttpResponse;
use tokenwell::{
    Builder, ErrorKind, ManualClock, MemoryStore, Result, Secret, TokenClient, TokenConfig,
    Transport,
};

use common::{CaptureLog, LOGS};

/// Answers from a queue (a network error once it is empty), keeping every
/// request's client secret.
#[derive(Default)]
struct Scripted {
    responses: Mutex<VecDeque<(u16, serde_json::Value)>>,
    secrets: Mutex<Vec<String>>,
}

impl Scripted {
    fn push(&self, status: u16, body: serde_json::Value) {
        self.responses.lock().unwrap().push_back((status, body));
    }
    fn token(&self, token: &str) {
        self.push(
            200,
            serde_json::json!({"access_token": token, "expires_in": 300}),
        );
    }
    fn invalid_client(&self) {
        self.push(401, serde_json::json!({"error": "invalid_client"}));
    }
    fn secrets(&self) -> Vec<String> {
        self.secrets.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Transport for Scripted {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let body = String::from_utf8(request.body).unwrap();
        let secret = form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "client_secret")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        self.secrets.lock().unwrap().push(secret);
        let next = self.responses.lock().unwrap().pop_front();
        let (status, body) =
            next.ok_or_else(|| tokenwell::Error::new(ErrorKind::Network, "script exhausted"))?;
        Ok(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })
    }
}

/// A secret file in a directory of its own, removed when dropped.
struct SecretFile {
    dir: PathBuf,
}

impl SecretFile {
    fn new(name: &str, content: &str) -> SecretFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("tw-rot-{}-{name}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = SecretFile { dir };
        file.write(content);
        file
    }
    fn path(&self) -> String {
        self.dir.join("client-secret").to_str().unwrap().to_owned()
    }
    /// Replaces the file as a Kubernetes secret volume does: a new file
    /// renamed over the old (a new inode).
    fn write(&self, content: &str) {
        let staged = self.dir.join(".staged");
        std::fs::write(&staged, content).unwrap();
        std::fs::rename(&staged, self.path()).unwrap();
    }
    fn remove(&self) {
        std::fs::remove_file(self.path()).unwrap();
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config(extra: serde_json::Value) -> TokenConfig {
    let mut v = serde_json::json!({
        "provider": "custom", "token_url": "https://auth.example/token",
        "client_id": "client-1", "credentials": "body", "encoding": "form",
    });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    TokenConfig::from_value(v).unwrap()
}

fn builder(cfg: TokenConfig, transport: &Arc<Scripted>, clock: &Arc<ManualClock>) -> Builder {
    TokenClient::builder(cfg)
        .transport(transport.clone())
        .clock(clock.clone())
        .spawner(Arc::new(TokioSpawner::current_or_shared().unwrap()))
}

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(1_767_225_600_000))
}

#[tokio::test]
async fn a_secret_file_is_stat_once_per_fetch_never_on_a_hit_and_its_change_is_a_new_client() {
    let file = SecretFile::new("stats", "first-secret-aa11\n");
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let c = builder(
        config(serde_json::json!({"client_secret_file": file.path()})),
        &transport,
        &clock,
    )
    .build()
    .unwrap();
    let first_key = c.cache_key();

    transport.token("t1");
    assert_eq!(c.token().await.unwrap().secret(), "t1");
    assert_eq!(c.credential_file_stats(), 1, "a fetch: one stat");
    for _ in 0..100 {
        assert_eq!(c.token().await.unwrap().secret(), "t1");
        assert!(c.peek(|t| t.secret().to_owned()).is_some());
    }
    assert_eq!(c.credential_file_stats(), 1, "hits: no stat");

    // Unchanged at the refresh: one stat, no read, the same secret.
    clock.advance(290_000);
    transport.token("t2");
    c.token().await.unwrap();
    c.settle().await;
    assert_eq!(c.token().await.unwrap().secret(), "t2");
    assert_eq!(c.credential_file_stats(), 2);
    assert_eq!(c.cache_key(), first_key);

    // Rotated: the next fetch sends the new secret, and the old token is gone
    // from the moment the change is seen, even while it was still usable.
    file.write("second-secret-bb22\n");
    clock.advance(250_000); // past the refresh point (240 s), before the margin (270 s)
    transport.token("t3");
    let stale = c.token().await.unwrap(); // refresh-ahead: the old token, a fetch behind it
    assert_eq!(stale.secret(), "t2");
    c.settle().await;
    assert_eq!(c.token().await.unwrap().secret(), "t3");
    assert_eq!(c.credential_file_stats(), 3);
    assert_eq!(
        transport.secrets(),
        [
            "first-secret-aa11",
            "first-secret-aa11",
            "second-secret-bb22"
        ]
    );
    assert_ne!(c.cache_key(), first_key, "the cache key follows the secret");
    assert!(!format!("{c:?}").contains("second-secret"));
}

#[tokio::test]
async fn a_rotated_secret_drops_the_cached_token_even_if_the_fetch_then_fails() {
    let file = SecretFile::new("drop", "first-secret-aa11");
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let c = builder(
        config(serde_json::json!({"client_secret_file": file.path()})),
        &transport,
        &clock,
    )
    .build()
    .unwrap();
    transport.token("t1");
    c.token().await.unwrap();
    file.write("second-secret-bb22");
    clock.advance(250_000); // past the refresh point, before the margin
    transport.push(503, serde_json::json!({}));
    assert_eq!(c.token().await.unwrap().secret(), "t1"); // served while the refresh runs
    c.settle().await;
    assert!(c.peek(|_| ()).is_none());
    assert!(
        !c.status().token_usable,
        "the old client's token is not served"
    );
}

#[tokio::test]
async fn invalid_client_rereads_the_file_once_and_retries_only_with_a_new_secret() {
    let file = SecretFile::new("retry", "first-secret-aa11");
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let cfg = config(serde_json::json!({"client_secret_file": file.path()}));
    let c = builder(cfg.clone(), &transport, &clock).build().unwrap();

    // The server rotated first; the file follows within the same stamp (same
    // size, written in place): only the re-read after `invalid_client` sees it.
    transport.token("t1");
    c.token().await.unwrap();
    let modified = std::fs::metadata(file.path()).unwrap().modified().unwrap();
    std::fs::write(file.path(), "third-secret-cc33").unwrap();
    let f = std::fs::File::options()
        .write(true)
        .open(file.path())
        .unwrap();
    f.set_modified(modified).unwrap();
    clock.advance(300_001);
    transport.invalid_client();
    transport.token("t2");
    assert_eq!(c.token().await.unwrap().secret(), "t2");
    assert_eq!(
        transport.secrets(),
        [
            "first-secret-aa11",
            "first-secret-aa11",
            "third-secret-cc33"
        ]
    );

    // Unchanged after `invalid_client`: no second request, the error stands.
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let c = builder(cfg, &transport, &clock).build().unwrap();
    transport.invalid_client();
    transport.token("never");
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    assert_eq!(transport.secrets().len(), 1, "one request: nothing changed");
}

#[tokio::test]
async fn invalid_client_retries_once_at_most() {
    let rotations = Arc::new(AtomicUsize::new(0));
    let provider = {
        let rotations = rotations.clone();
        move || -> Result<Secret> {
            let n = rotations.fetch_add(1, Ordering::SeqCst);
            Ok(Secret::from(format!("secret-{n}")))
        }
    };
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let c = builder(config(serde_json::json!({})), &transport, &clock)
        .credential_provider(provider)
        .build()
        .unwrap();
    for _ in 0..3 {
        transport.invalid_client();
    }
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    assert_eq!(transport.secrets(), ["secret-0", "secret-1"]);
    assert_eq!(
        rotations.load(Ordering::SeqCst),
        2,
        "asked once per fetch, once more to retry"
    );
}

#[tokio::test]
async fn a_provider_is_asked_once_per_fetch_never_on_a_hit() {
    let calls = Arc::new(AtomicUsize::new(0));
    let secret = Arc::new(Mutex::new("first-secret-aa11".to_owned()));
    let provider = {
        let (calls, secret) = (calls.clone(), secret.clone());
        move || -> Result<Secret> {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(Secret::from(secret.lock().unwrap().clone()))
        }
    };
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let c = builder(config(serde_json::json!({})), &transport, &clock)
        .credential_provider(provider)
        .build()
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0, "not asked at construction");
    transport.token("t1");
    for _ in 0..50 {
        c.token().await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    *secret.lock().unwrap() = "second-secret-bb22".into();
    clock.advance(300_001);
    transport.token("t2");
    assert_eq!(c.token().await.unwrap().secret(), "t2");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        transport.secrets(),
        ["first-secret-aa11", "second-secret-bb22"]
    );
}

#[tokio::test]
async fn a_failing_source_keeps_the_last_good_secret_and_warns_without_it() {
    CaptureLog::install();
    LOGS.clear();
    // A provider that fails (then times out) after its first answer.
    let calls = Arc::new(AtomicUsize::new(0));
    struct Flaky(Arc<AtomicUsize>);
    #[async_trait::async_trait]
    impl tokenwell::CredentialProvider for Flaky {
        async fn credential(&self) -> Result<Secret> {
            match self.0.fetch_add(1, Ordering::SeqCst) {
                0 => Ok(Secret::from("first-secret-aa11")),
                1 => Err(tokenwell::Error::new(
                    ErrorKind::Network,
                    "vault unreachable",
                )),
                _ => std::future::pending().await,
            }
        }
    }
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let mut cfg = config(serde_json::json!({}));
    cfg.http.timeout_ms = 50;
    let c = builder(cfg, &transport, &clock)
        .credential_provider(Flaky(calls.clone()))
        .build()
        .unwrap();
    for token in ["t1", "t2", "t3"] {
        transport.token(token);
        assert_eq!(c.token().await.unwrap().secret(), token);
        clock.advance(300_001);
    }
    assert_eq!(transport.secrets(), ["first-secret-aa11"; 3]);

    // A file that disappears: the same.
    let file = SecretFile::new("gone", "fQ93xk2Lm0Zs");
    let (transport, clock2) = (Arc::new(Scripted::default()), clock);
    let c = builder(
        config(serde_json::json!({"client_secret_file": file.path()})),
        &transport,
        &clock2,
    )
    .build()
    .unwrap();
    transport.token("f1");
    c.token().await.unwrap();
    file.remove();
    clock2.advance(300_001);
    transport.token("f2");
    assert_eq!(c.token().await.unwrap().secret(), "f2");
    assert_eq!(transport.secrets(), ["fQ93xk2Lm0Zs"; 2]);

    let lines = LOGS.lines();
    for what in [
        "the credential provider failed",
        "the credential provider did not answer",
        "client_secret_file cannot be read",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(what) && l.starts_with("WARN")),
            "{what}: {lines:#?}"
        );
    }
    assert!(lines.iter().all(|l| !l.contains("-secret-")), "{lines:#?}");
}

#[tokio::test]
async fn a_provider_that_never_answered_fails_the_fetch_with_a_typed_error() {
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let c = builder(config(serde_json::json!({})), &transport, &clock)
        .credential_provider(|| -> Result<Secret> {
            Err(tokenwell::Error::new(
                ErrorKind::Network,
                "vault unreachable",
            ))
        })
        .build()
        .unwrap();
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("no client secret yet"), "{e}");
    assert!(transport.secrets().is_empty(), "nothing was sent");

    let c = builder(config(serde_json::json!({})), &transport, &clock)
        .credential_provider(|| -> Result<Secret> { panic!("provider bug") })
        .build()
        .unwrap();
    assert_eq!(c.token().await.unwrap_err().kind(), ErrorKind::Config);
}

#[test]
fn construction_errors_name_the_key_never_the_content() {
    let file = SecretFile::new("cfg", "file-secret-dd44");
    let build = |extra: serde_json::Value| {
        let mut v = serde_json::json!({
            "provider": "custom", "token_url": "https://auth.example/token", "client_id": "c",
        });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        TokenConfig::from_value(v).and_then(|cfg| {
            TokenClient::builder(cfg)
                .spawner(Arc::new(TokioSpawner::current_or_shared().unwrap()))
                .build()
        })
    };
    let both =
        build(serde_json::json!({"client_secret": "s-inline-77", "clientSecretFile": file.path()}));
    let e = both.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        e.to_string()
            .contains("client_secret and client_secret_file"),
        "{e}"
    );

    let missing =
        build(serde_json::json!({"client_secret_file": "/nonexistent/tw/secret"})).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Config);
    assert!(
        missing.to_string().contains("client_secret_file"),
        "{missing}"
    );
    assert!(!missing.to_string().contains("/nonexistent"), "{missing}");

    std::fs::write(file.path(), "\n").unwrap();
    let empty = build(serde_json::json!({"client_secret_file": file.path()})).unwrap_err();
    assert!(empty.to_string().contains("client_secret_file"), "{empty}");

    let none = build(serde_json::json!({})).unwrap_err();
    assert!(
        none.to_string().contains("client_secret is missing"),
        "{none}"
    );

    let with_provider =
        TokenClient::builder(config(serde_json::json!({"client_secret": "s-inline-77"})))
            .credential_provider(|| -> Result<Secret> { Ok("x".into()) })
            .build()
            .unwrap_err();
    assert!(
        with_provider.to_string().contains("credential provider"),
        "{with_provider}"
    );

    // A provider that gives the private key replaces the key's keys, and the
    // algorithm cannot come from a key that is not there yet.
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/keys/");
    let key_file = format!("{keys}rsa2048.pk8.pem");
    let key_provider = |extra: serde_json::Value| {
        let mut v = serde_json::json!({"credentials": "private_key_jwt"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let mut cfg = config(v);
        cfg.client_secret = None;
        TokenClient::builder(cfg)
            .credential_provider(|| -> Result<Secret> { Ok("x".into()) })
            .build()
            .unwrap_err()
    };
    for (extra, says) in [
        (
            serde_json::json!({"private_key_file": key_file, "assertion": {"algorithm": "RS256"}}),
            "a credential provider replaces private_key and private_key_file",
        ),
        (serde_json::json!({}), "needs assertion.algorithm"),
        (
            serde_json::json!({"assertion": {"algorithm": "HS256"}}),
            "HS256 is client_secret_jwt's",
        ),
    ] {
        let e = key_provider(extra);
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains(says), "{e}");
    }
}

#[tokio::test]
async fn a_token_sealed_under_the_old_secret_is_a_miss_never_an_error() {
    let store = Arc::new(MemoryStore::new());
    let secret = Arc::new(Mutex::new("first-secret-aa11".to_owned()));
    let (transport, clock) = (Arc::new(Scripted::default()), manual_clock());
    let provided = |secret: &Arc<Mutex<String>>| {
        let secret = secret.clone();
        move || -> Result<Secret> { Ok(Secret::from(secret.lock().unwrap().clone())) }
    };
    let a = builder(config(serde_json::json!({})), &transport, &clock)
        .store(store.clone())
        .credential_provider(provided(&secret))
        .build()
        .unwrap();
    transport.token("old-t");
    assert_eq!(a.token().await.unwrap().secret(), "old-t");
    clock.advance(250_000); // `a` is past its refresh point

    // Another process, already on the new secret: the old record is not its.
    *secret.lock().unwrap() = "second-secret-bb22".into();
    let b = builder(config(serde_json::json!({})), &transport, &clock)
        .store(store.clone())
        .credential_provider(provided(&secret))
        .build()
        .unwrap();
    transport.token("new-t");
    assert_eq!(b.token().await.unwrap().secret(), "new-t");
    assert_eq!(
        transport.secrets(),
        ["first-secret-aa11", "second-secret-bb22"]
    );

    // The first one rotates at its refresh and adopts the new secret's token.
    assert_eq!(a.token().await.unwrap().secret(), "old-t");
    a.settle().await;
    assert_eq!(a.token().await.unwrap().secret(), "new-t");
    assert_eq!(transport.secrets().len(), 2, "adopted from the store");
    assert_eq!(a.cache_key(), b.cache_key());
}

/// The mock disables the old secret the moment a new one is set (Bringg);
/// the file follows a little later, as a secret volume's does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_mock_a_rotated_secret_is_picked_up_without_a_restart() {
    let server = MockServer::start(MockOptions {
        credentials: Some(("client-1".into(), "first-secret-aa11".into())),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let file = SecretFile::new("mock", "first-secret-aa11\n");
    let cfg = TokenConfig::from_value(serde_json::json!({
        "provider": "deliveroo", "environment": "sandbox", "base_url": format!("{}/deliveroo", server.url()),
        "client_id": "client-1", "client_secret_file": file.path(),
        "policy": {"backoff_initial_ms": 50, "backoff_max_ms": 50},
    }))
    .unwrap();
    let c = TokenClient::new(cfg).unwrap();
    let t1 = c.token().await.unwrap();

    assert!(server.rotate_secret("second-secret-bb22"));
    assert!(c.invalidate(t1.secret()));
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    assert!(!e.to_string().contains("first-secret"));

    file.write("second-secret-bb22\n");
    // Within the backoff the last error stands; once it is over, the file is read again.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let t2 = c.token().await.unwrap();
    assert_ne!(t1.secret(), t2.secret());
    server.shutdown().await;
}

/// A private key file rotates as a secret file does: a new key signs the next
/// fetch, and the client is a new one (its cache key follows the key's
/// fingerprint). The mock knows `rsa2048`, not `rsa2048-other`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_private_key_file_signs_the_next_fetch_without_a_restart() {
    let key = |name: &str| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/keys/");
        std::fs::read_to_string(format!("{dir}{name}")).unwrap()
    };
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let file = SecretFile::new("key", &key("rsa2048.pk8.pem"));
    let cfg = TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "token_url": format!("{}/assertion/token", server.url()),
        "client_id": "assertion-client", "encoding": "form",
        "credentials": "private_key_jwt", "private_key_file": file.path(),
        "policy": {"backoff_initial_ms": 50, "backoff_max_ms": 50},
    }))
    .unwrap();
    let c = TokenClient::new(cfg).unwrap();
    let t1 = c.token().await.unwrap();
    let first_key = c.cache_key();

    // A key the server does not know: refused, and the re-read finds the same.
    file.write(&key("rsa2048-other.pk8.pem"));
    assert!(c.invalidate(t1.secret()));
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    assert_ne!(c.cache_key(), first_key);
    assert!(!e.to_string().contains("PRIVATE KEY"));

    // A key that does not fit the assertion's algorithm (RS256) keeps the last good one.
    file.write(&key("ec256.pk8.pem"));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient, "{e}");

    // The known key again: tokens without a restart, under the first cache key.
    file.write(&key("rsa2048.pk8.pem"));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let t2 = c.token().await.unwrap();
    assert_ne!(t1.secret(), t2.secret());
    assert_eq!(c.cache_key(), first_key);
    server.shutdown().await;
}

/// A private key from a credential provider: it signs the first fetch, a new
/// one rotates the client (its cache key follows the key's fingerprint), and
/// one the algorithm cannot sign with keeps the last good key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_from_a_provider_signs_and_rotates() {
    let key = |name: &str| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/keys/");
        std::fs::read_to_string(format!("{dir}{name}")).unwrap()
    };
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let current = Arc::new(Mutex::new(None::<String>));
    let provided = current.clone();
    let cfg = TokenConfig::from_value(serde_json::json!({
        "provider": "custom", "token_url": format!("{}/assertion/token", server.url()),
        "client_id": "assertion-client", "encoding": "form",
        "credentials": "private_key_jwt", "assertion": {"algorithm": "RS256"},
        "policy": {"backoff_initial_ms": 50, "backoff_max_ms": 50},
    }))
    .unwrap();
    let c = TokenClient::builder(cfg)
        .credential_provider(move || -> Result<Secret> {
            match provided.lock().unwrap().clone() {
                Some(pem) => Ok(Secret::from(pem)),
                None => Err(tokenwell::Error::new(
                    ErrorKind::Internal,
                    "vault is sealed",
                )),
            }
        })
        .build()
        .unwrap();

    // No key ever: the fetch fails, typed, saying what is missing.
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("no private key yet"), "{e}");

    *current.lock().unwrap() = Some(key("rsa2048.pk8.pem"));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await; // past the backoff
    let t1 = c.token().await.unwrap();
    let first_key = c.cache_key();

    // A key the server does not know: a new client, refused by the server.
    *current.lock().unwrap() = Some(key("rsa2048-other.pk8.pem"));
    assert!(c.invalidate(t1.secret()));
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient);
    assert_ne!(c.cache_key(), first_key);

    // An EC key cannot sign RS256: refused, and never quoted.
    *current.lock().unwrap() = Some(key("ec256.pk8.pem"));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let e = c.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidClient, "{e}");
    assert!(!e.to_string().contains("PRIVATE KEY"), "{e}");

    // The known key again: a token without a restart, under the first cache key.
    *current.lock().unwrap() = Some(key("rsa2048.pk8.pem"));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let t2 = c.token().await.unwrap();
    assert_ne!(t1.secret(), t2.secret());
    assert_eq!(c.cache_key(), first_key);
    server.shutdown().await;
}
