//! Client assertions (`private_key_jwt`, `client_secret_jwt`): known answers
//! for each algorithm verified by an independent implementation (aws-lc-rs'
//! verification, Python's `hmac` for the HS256 bytes, openssl for the
//! certificate thumbprint), the refused key forms, the cache key and sealing
//! that follow the key, and whole fetches against the mock's assertion route.
#![cfg(feature = "mock")]

use std::sync::Arc;

use aws_lc_rs::signature::{
    UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

use tokenwell::config::HttpOptions;
use tokenwell::mock::{MockOptions, MockServer};
use tokenwell::platform::{Host, Platform};
use tokenwell::profile::{Credentials, Profile};
use tokenwell::{ErrorKind, MemoryStore, StoredToken, TokenClient, TokenConfig};

const NOW: i64 = 1_767_225_600;
const JTI: &str = "0123456789abcdef0123456789abcdef";
const TOKEN_URL: &str = "https://as.example.com/oauth2/token";

fn key_file(name: &str) -> String {
    format!("{}/tests/oidc/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn key(name: &str) -> String {
    std::fs::read_to_string(key_file(name)).unwrap()
}

fn config(extra: Value) -> TokenConfig {
    let mut cfg = json!({"provider": "custom", "token_url": TOKEN_URL, "client_id": "kat-client"});
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    if cfg.get("issuer").is_some() {
        // The issuer's metadata names the token endpoint.
        cfg.as_object_mut().unwrap().remove("token_url");
    }
    TokenConfig::from_value(cfg).unwrap()
}

fn resolve(extra: Value) -> tokenwell::Result<(Profile, Credentials)> {
    Profile::resolve(&config(extra))
}

fn sign_kat(extra: Value) -> String {
    let (_, creds) = resolve(extra).unwrap();
    let assertion = creds.assertion.clone().expect("an assertion method");
    futures::executor::block_on(assertion.sign_with(
        &creds.client_id,
        &creds.client_secret,
        TOKEN_URL,
        NOW,
        JTI,
    ))
    .unwrap()
}

fn part(jws: &str, i: usize) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(jws.split('.').nth(i).unwrap())
        .unwrap()
}

fn spki(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).unwrap()
}

const CLAIMS: &str = r#"{"iss":"kat-client","sub":"kat-client","aud":"https://as.example.com/oauth2/token","jti":"0123456789abcdef0123456789abcdef","iat":1767225600,"exp":1767225660}"#;

/// The header and claims exactly as expected, and the signature verified
/// with the public key by aws-lc-rs' verifier.
fn check_signed(
    jws: &str,
    header: &str,
    public: &str,
    algorithm: &'static dyn VerificationAlgorithm,
) {
    assert_eq!(String::from_utf8(part(jws, 0)).unwrap(), header);
    assert_eq!(String::from_utf8(part(jws, 1)).unwrap(), CLAIMS);
    let input = jws.rsplit_once('.').unwrap().0;
    UnparsedPublicKey::new(algorithm, spki(&key(public)))
        .verify(input.as_bytes(), &part(jws, 2))
        .expect("the signature verifies with the public key");
    // And not with another key.
    let other = key("rsa2048-other.pub.pem");
    if public.starts_with("rsa2048") {
        assert!(UnparsedPublicKey::new(algorithm, spki(&other))
            .verify(input.as_bytes(), &part(jws, 2))
            .is_err());
    }
}

#[test]
fn rs256_known_answer() {
    let jws =
        sign_kat(json!({"credentials": "private_key_jwt", "private_key": key("rsa2048.pk8.pem")}));
    check_signed(
        &jws,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        "rsa2048.pub.pem",
        &RSA_PKCS1_2048_8192_SHA256,
    );
    // PKCS#1 v1.5 is deterministic: the same input signs the same.
    let again =
        sign_kat(json!({"credentials": "private_key_jwt", "private_key": key("rsa2048.pk8.pem")}));
    assert_eq!(jws, again);
}

#[test]
fn ps256_known_answer_with_kid_and_certificate_thumbprint() {
    let jws = sign_kat(json!({
        "credentials": "private_key_jwt",
        "privateKeyFile": key_file("rsa2048.pk8.pem"),
        "certificate_file": key_file("rsa2048.cert.pem"),
        "key_id": "kid-1",
        "assertion": {"algorithm": "PS256"},
    }));
    // x5t#S256: `openssl x509 -outform DER | openssl dgst -sha256 -binary`, base64url.
    check_signed(
        &jws,
        r#"{"alg":"PS256","typ":"JWT","kid":"kid-1","x5t#S256":"y9wXFCjooEjdw9hXMRtNFzhlsLR9WyTjBR-o2x7fwYs"}"#,
        "rsa2048.pub.pem",
        &RSA_PSS_2048_8192_SHA256,
    );
}

#[test]
fn es256_known_answer() {
    let jws =
        sign_kat(json!({"credentials": "private_key_jwt", "private_key": key("ec256.pk8.pem")}));
    // Fixed-length r || s, as JWS wants (not DER).
    assert_eq!(part(&jws, 2).len(), 64);
    check_signed(
        &jws,
        r#"{"alg":"ES256","typ":"JWT"}"#,
        "ec256.pub.pem",
        &ECDSA_P256_SHA256_FIXED,
    );
}

#[test]
fn hs256_known_answer() {
    let secret = "kat-secret-0123456789abcdef0123456789";
    let jws = sign_kat(json!({"credentials": "client_secret_jwt", "client_secret": secret}));
    // Computed with Python's hmac/hashlib/base64 over the same header and claims.
    assert_eq!(
        jws,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJrYXQtY2xpZW50Iiwic3ViIjoia2F0LWNsaWVudCIsImF1ZCI6Imh0dHBzOi8vYXMuZXhhbXBsZS5jb20vb2F1dGgyL3Rva2VuIiwianRpIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyNTY2MH0.GnynGct6r9TbmEF-7sSalh0c-pKBoH0hrajxm9rrJdM"
    );
    let input = jws.rsplit_once('.').unwrap().0;
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    aws_lc_rs::hmac::verify(&k, input.as_bytes(), &part(&jws, 2)).unwrap();
}

#[test]
fn audience_and_lifetime_are_configurable() {
    let rsa = key("rsa2048.pk8.pem");
    let claims = |extra: Value| -> Value {
        let mut cfg = json!({"credentials": "private_key_jwt", "private_key": rsa});
        for (k, v) in extra.as_object().unwrap() {
            cfg[k] = v.clone();
        }
        serde_json::from_slice(&part(&sign_kat(cfg), 1)).unwrap()
    };
    let c = claims(
        json!({"issuer": "https://as.example.com", "assertion": {"audience": "issuer", "lifetimeSecs": 300}}),
    );
    assert_eq!(c["aud"], "https://as.example.com");
    assert_eq!(c["exp"], NOW + 300);
    let c = claims(json!({"assertion": {"audience": "https://other.example.com/aud"}}));
    assert_eq!(c["aud"], "https://other.example.com/aud");
    assert_eq!(c["exp"], NOW + 60);
}

fn config_error(extra: Value) -> String {
    let err = resolve(extra).expect_err("a config error");
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    err.to_string()
}

/// Every refused key form is a `config` error naming the openssl command
/// that fixes it, and quoting nothing of the key.
#[test]
fn refused_key_forms_name_the_openssl_command() {
    let cases = [
        (
            "bad-rsa2048.pkcs1.pem",
            "PKCS#1",
            "openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem",
        ),
        (
            "bad-ec256.sec1.pem",
            "SEC1",
            "openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem",
        ),
        (
            "bad-rsa2048.encrypted.pk8.pem",
            "encrypted PKCS#8",
            "openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem",
        ),
        (
            "bad-rsa1024.pk8.pem",
            "1024-bit RSA key",
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
        ),
        (
            "bad-ec384.pk8.pem",
            "curve other than P-256",
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
        ),
        (
            "bad-ed25519.pk8.pem",
            "neither an RSA nor an EC P-256 key",
            "openssl genpkey",
        ),
    ];
    for (file, what, command) in cases {
        let pem = key(file);
        for extra in [
            json!({"credentials": "private_key_jwt", "private_key": pem}),
            json!({"credentials": "private_key_jwt", "private_key_file": key_file(file)}),
        ] {
            let text = config_error(extra);
            assert!(text.contains(what), "{file}: {text}");
            assert!(text.contains(command), "{file}: {text}");
            for line in pem.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!text.contains(line), "{file}: the error quotes the key");
            }
        }
    }
    let text = config_error(json!({"credentials": "private_key_jwt", "private_key": "not a key"}));
    assert!(text.contains("not a PEM private key"), "{text}");
}

#[test]
fn a_key_that_does_not_fit_the_algorithm_is_refused() {
    let rsa = key("rsa2048.pk8.pem");
    let ec = key("ec256.pk8.pem");
    let text = config_error(
        json!({"credentials": "private_key_jwt", "private_key": rsa, "assertion": {"algorithm": "ES256"}}),
    );
    assert!(
        text.contains("ES256 needs an EC P-256 key") && text.contains("openssl genpkey"),
        "{text}"
    );
    let text = config_error(
        json!({"credentials": "private_key_jwt", "private_key": ec, "assertion": {"algorithm": "PS256"}}),
    );
    assert!(text.contains("PS256 needs an RSA key"), "{text}");
    let text = config_error(
        json!({"credentials": "private_key_jwt", "private_key": ec, "assertion": {"algorithm": "HS256"}}),
    );
    assert!(text.contains("HS256 is client_secret_jwt's"), "{text}");
    let text = config_error(
        json!({"credentials": "client_secret_jwt", "client_secret": "s3cret-s3cret", "assertion": {"algorithm": "RS256"}}),
    );
    assert!(text.contains("HS256 only"), "{text}");
}

#[test]
fn assertion_settings_are_checked() {
    let rsa = key("rsa2048.pk8.pem");
    let pk = |extra: Value| {
        let mut cfg = json!({"credentials": "private_key_jwt", "private_key": rsa});
        for (k, v) in extra.as_object().unwrap() {
            cfg[k] = v.clone();
        }
        config_error(cfg)
    };
    assert!(pk(json!({"client_secret": "a-secret-Xy12"})).contains("client_secret is not used"));
    assert!(pk(json!({"private_key_file": key_file("rsa2048.pk8.pem")})).contains("exclusive"));
    assert!(pk(json!({"assertion": {"lifetime_secs": 0}})).contains("1 to 300"));
    assert!(pk(json!({"assertion": {"lifetime_secs": 301}})).contains("1 to 300"));
    assert!(pk(json!({"assertion": {"audience": "issuer"}})).contains("needs the issuer key"));
    assert!(pk(json!({"assertion": {"audience": "not a url"}})).contains("absolute"));
    assert!(
        pk(json!({"private_key_file": "/nonexistent/key.pem", "private_key": null}))
            .contains("cannot read /nonexistent/key.pem")
    );
    assert!(pk(json!({"certificate_file": key_file("rsa2048.pk8.pem")}))
        .contains("not a PEM certificate"));
    assert!(config_error(json!({"credentials": "private_key_jwt"}))
        .contains("needs private_key or private_key_file"));
    let text = config_error(json!({"client_secret": "a-secret-Xy12", "private_key": rsa}));
    assert!(text.contains("private_key is only used with"), "{text}");
    let text = config_error(
        json!({"credentials": "client_secret_jwt", "client_secret": "a-secret-Xy12", "key_id": "k"}),
    );
    assert!(text.contains("key_id is only used with"), "{text}");
    assert!(config_error(json!({"credentials": "client_secret_jwt"}))
        .contains("client_secret is missing"));
    // The RFC 8414 names of the secret methods are accepted.
    for (name, basic) in [("client_secret_basic", true), ("client_secret_post", false)] {
        let (profile, _) =
            resolve(json!({"credentials": name, "client_secret": "a-secret-Xy12"})).unwrap();
        assert_eq!(profile.credentials.uses_basic(), basic);
    }
}

/// The key never shows: not in Debug of the config, the credentials or the
/// client, nor in a `config` error about it.
#[test]
fn the_private_key_is_never_printed() {
    let pem = key("rsa2048.pk8.pem");
    let cfg = config(json!({"credentials": "private_key_jwt", "private_key": pem}));
    let (profile, creds) = Profile::resolve(&cfg).unwrap();
    let client = TokenClient::new(cfg.clone()).unwrap();
    let texts = [
        format!("{cfg:?}"),
        format!("{creds:?}"),
        format!("{profile:?}"),
        format!("{client:?}"),
        format!("{:?}", client.cache_key()),
    ];
    let body_lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for text in &texts {
        for line in &body_lines {
            assert!(!text.contains(line), "the key shows in {text}");
        }
        assert!(
            !text.contains(creds.key_material().expose()),
            "the fingerprint shows in {text}"
        );
    }
    assert!(
        texts[1].contains("PrivateKey(Rsa(2048), [redacted])"),
        "{}",
        texts[1]
    );
}

fn creds_for(file: &str) -> (Profile, Credentials) {
    resolve(json!({"credentials": "private_key_jwt", "private_key_file": key_file(file)})).unwrap()
}

/// Two clients with different keys (and no secret) never share a cache key
/// or a sealed record; the same key, inline or from a file, gives the same.
#[test]
fn the_cache_key_and_the_sealing_follow_the_private_key() {
    let (profile, a) = creds_for("rsa2048.pk8.pem");
    let (_, b) = creds_for("rsa2048-other.pk8.pem");
    let (_, same) =
        resolve(json!({"credentials": "private_key_jwt", "private_key": key("rsa2048.pk8.pem")}))
            .unwrap();
    let key_a = tokenwell::CacheKey::new(&profile, &a);
    assert_ne!(key_a, tokenwell::CacheKey::new(&profile, &b));
    assert_eq!(key_a, tokenwell::CacheKey::new(&profile, &same));
    assert!(!a.key_material().is_empty());

    let token = StoredToken {
        access_token: "at-123".into(),
        token_type: "Bearer".into(),
        scope: None,
        issued_unix_ms: 1_767_225_600_000,
        lifetime_ms: 3_600_000,
    };
    futures::executor::block_on(async {
        let record = tokenwell::fleet::record::seal(a.key_material(), &key_a, &token)
            .await
            .unwrap();
        assert!(!record.contains("at-123"));
        let opened = tokenwell::fleet::record::open(a.key_material(), &key_a, &record).await;
        assert_eq!(opened, Some(token.clone()));
        // Under the same cache key, the other key's client cannot open it.
        assert_eq!(
            tokenwell::fleet::record::open(b.key_material(), &key_a, &record).await,
            None
        );
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn mock_config(mock: &MockServer, extra: Value) -> TokenConfig {
    let mut cfg = json!({
        "provider": "custom",
        "token_url": format!("{}/assertion/token", mock.url()),
        "client_id": "assertion-client",
        "encoding": "form",
    });
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    TokenConfig::from_value(cfg).unwrap()
}

/// Each algorithm against the mock's verifying route: accepted, a fresh
/// assertion (new `jti`) per request, and the body carries no secret.
#[test]
fn every_algorithm_fetches_from_a_verifying_server() {
    let rt = runtime();
    let mock = rt
        .block_on(MockServer::start(MockOptions::default()))
        .unwrap();
    let rsa = key("rsa2048.pk8.pem");
    let cases = [
        json!({"credentials": "private_key_jwt", "private_key": rsa}),
        json!({"credentials": "private_key_jwt", "private_key": rsa, "assertion": {"algorithm": "PS256"}}),
        json!({"credentials": "private_key_jwt", "private_key_file": key_file("ec256.pk8.pem")}),
        json!({"credentials": "client_secret_jwt", "client_secret": tokenwell::mock::HS256_SECRET}),
    ];
    for extra in cases {
        mock.reset();
        let client = TokenClient::new(mock_config(&mock, extra.clone())).unwrap();
        let first = rt
            .block_on(client.token())
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert!(client.invalidate(first.secret()));
        rt.block_on(client.token())
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
        let requests = mock.requests();
        assert_eq!(requests.len(), 2, "{extra}");
        for r in &requests {
            assert!(!r.body.contains("client_secret"), "{}", r.body);
            assert!(r.headers.keys().all(|h| h != "authorization"));
            assert!(r.body.contains("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"));
        }
        assert_ne!(requests[0].body, requests[1].body);
    }
    rt.block_on(mock.shutdown());
}

/// A key the server does not know, a wrong HMAC secret, an expired or a
/// replayed assertion: `invalid_client`.
#[test]
fn a_wrong_key_or_an_expired_assertion_is_invalid_client() {
    let rt = runtime();
    let mock = rt
        .block_on(MockServer::start(MockOptions::default()))
        .unwrap();
    for extra in [
        json!({"credentials": "private_key_jwt", "private_key_file": key_file("rsa2048-other.pk8.pem")}),
        json!({"credentials": "client_secret_jwt", "client_secret": "not-the-mock-secret"}),
    ] {
        let client = TokenClient::new(mock_config(&mock, extra)).unwrap();
        let err = rt.block_on(client.token()).unwrap_err();
        assert_eq!(err.code(), "invalid_client", "{err}");
    }

    let cfg = mock_config(
        &mock,
        json!({"credentials": "private_key_jwt", "private_key_file": key_file("rsa2048.pk8.pem")}),
    );
    let (profile, creds) = Profile::resolve(&cfg).unwrap();
    let assertion = creds.assertion.clone().unwrap();
    let transport = Host::default_transport(&HttpOptions::default()).unwrap();
    let now = Host::unix_ms() / 1000;
    let send = |at: i64, jti: &str| {
        let signed = futures::executor::block_on(assertion.sign_with(
            &creds.client_id,
            &creds.client_secret,
            &profile.token_url,
            at,
            jti,
        ))
        .unwrap();
        let req = tokenwell::request::build_signed(&profile, &creds, &signed);
        let resp = rt.block_on(transport.send(req)).unwrap();
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        (
            resp.status,
            body["error"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(send(now - 600, "expired-1"), (401, "invalid_client".into()));
    assert_eq!(send(now, "fresh-1").0, 200);
    assert_eq!(
        send(now, "fresh-1"),
        (401, "invalid_client".into()),
        "a replayed jti"
    );
    rt.block_on(mock.shutdown());
}

/// Two `private_key_jwt` clients with different keys sharing a store: the
/// second never reads the first one's token; the same key reads it.
#[test]
fn clients_with_different_keys_never_share_a_token() {
    let rt = runtime();
    let mock = rt
        .block_on(MockServer::start(MockOptions::default()))
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let client = |file: &str| {
        let cfg = mock_config(
            &mock,
            json!({"credentials": "private_key_jwt", "private_key_file": key_file(file)}),
        );
        TokenClient::builder(cfg)
            .store(store.clone())
            .build()
            .unwrap()
    };
    let first = rt.block_on(client("rsa2048.pk8.pem").token()).unwrap();
    // The store holds the token sealed under the key's fingerprint: it cannot
    // open it with what it can know (an empty secret).
    let cfg = mock_config(
        &mock,
        json!({"credentials": "private_key_jwt", "private_key_file": key_file("rsa2048.pk8.pem")}),
    );
    let keys = tokenwell::fleet::Keys::for_config(&cfg).unwrap();
    let record = rt
        .block_on(tokenwell::Store::get(&*store, &keys.token))
        .unwrap()
        .unwrap();
    assert!(!record.contains(first.secret()));
    let (profile, creds) = Profile::resolve(&cfg).unwrap();
    let cache_key = tokenwell::CacheKey::new(&profile, &creds);
    let open = |secret: &tokenwell::Secret| {
        rt.block_on(tokenwell::fleet::record::open(secret, &cache_key, &record))
    };
    assert_eq!(open(&tokenwell::Secret::from("")), None);
    assert!(open(creds.key_material()).is_some());
    // The mock refuses the other key: it must fetch for itself, not reuse.
    let other = rt.block_on(client("rsa2048-other.pk8.pem").token());
    assert_eq!(other.unwrap_err().code(), "invalid_client");
    assert_eq!(mock.request_count(), 2);
    let same = rt.block_on(client("rsa2048.pk8.pem").token()).unwrap();
    assert_eq!(same.secret(), first.secret());
    assert_eq!(mock.request_count(), 2);
    rt.block_on(mock.shutdown());
}
