//! The native transport through the networks an application configures: a
//! private CA (`http.ca_file`, `SSL_CERT_FILE`), mutual TLS
//! (`http.client_cert_file` / `http.client_key_file`, `tls_client_auth`), a
//! proxy (`http.proxy`, `HTTPS_PROXY` / `NO_PROXY`), one HTTP client per
//! distinct setting, and every bad setting a `config` error naming its key.
//! Real sockets on loopback: an HTTPS token endpoint and a CONNECT proxy.
//!
//! The environment's proxy and CA are read per process, so those cases run in a
//! child process: this binary again, on the ignored `child_fetch` test.

#[path = "common/tls.rs"]
mod tls;

use serde_json::{json, Value};
use tls::{path, ConnectProxy, HttpsEndpoint, Pki};
use tokenwell::{ErrorKind, TokenClient, TokenConfig};

fn client(config: Value) -> tokenwell::Result<TokenClient> {
    TokenClient::new(TokenConfig::from_value(config)?)
}

fn secret_config(url: &str, http: Value) -> Value {
    json!({"provider": "custom", "token_url": url, "client_id": "svc",
        "client_secret": "s3cr3t-value", "credentials": "body", "http": http})
}

fn mtls_config(url: &str, id: &str, http: Value) -> Value {
    json!({"provider": "custom", "token_url": url, "client_id": id,
        "credentials": "tls_client_auth", "http": http})
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_private_ca_is_trusted_through_ca_file() {
    let pki = Pki::new("ca");
    let server = HttpsEndpoint::start(&pki.server(), None);
    let rt = runtime();

    // The system's roots do not know the test CA.
    let plain = client(secret_config(&server.url(), json!({}))).unwrap();
    let e = rt.block_on(plain.token()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");

    for only in [false, true] {
        let http = json!({"ca_file": path(&pki.ca()), "caOnly": only});
        let c = client(secret_config(&server.url(), http)).unwrap();
        let token = rt.block_on(c.token()).unwrap();
        assert!(token.secret().starts_with("tok-"));
    }
    assert_eq!(server.seen().len(), 2);

    // Another CA alone does not vouch for this server.
    let other = Pki::new("other");
    let http = json!({"ca_file": path(&other.ca()), "ca_only": true});
    let c = client(secret_config(&server.url(), http)).unwrap();
    let e = rt.block_on(c.token()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn mutual_tls_sends_the_client_id_and_no_secret() {
    let pki = Pki::new("mtls");
    let server = HttpsEndpoint::start(&pki.server(), Some(&pki));
    let alice = pki.client("alice");
    let rt = runtime();
    let http = |cert: &tls::Issued| {
        json!({"ca_file": path(&pki.ca()), "client_cert_file": path(&cert.cert),
            "clientKeyFile": path(&cert.key)})
    };

    let c = client(mtls_config(&server.url(), "alice-id", http(&alice))).unwrap();
    rt.block_on(c.token()).unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].client_cert.as_deref(), Some(&alice.der[..]));
    assert_eq!(
        seen[0].body,
        "grant_type=client_credentials&client_id=alice-id"
    );
    assert_eq!(seen[0].authorization, None);

    // Without a certificate the server refuses the handshake.
    let c = client(secret_config(
        &server.url(),
        json!({"ca_file": path(&pki.ca())}),
    ))
    .unwrap();
    let e = rt.block_on(c.token()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert_eq!(server.seen().len(), 1);

    // `self_signed_tls_client_auth` sends the same.
    let mut config = mtls_config(&server.url(), "alice-id", http(&alice));
    config["credentials"] = json!("self_signed_tls_client_auth");
    rt.block_on(client(config).unwrap().token()).unwrap();
    assert_eq!(server.seen()[1].body, seen[0].body);
}

/// The process-wide HTTP client cache covers the client certificate: two
/// clients with different certificates never share a connection pool.
#[test]
fn two_clients_with_different_certificates_are_each_seen_with_their_own() {
    let pki = Pki::new("two");
    let server = HttpsEndpoint::start(&pki.server(), Some(&pki));
    let (alice, bob) = (pki.client("alice"), pki.client("bob"));
    let rt = runtime();
    let make = |cert: &tls::Issued, id: &str| {
        let http = json!({"ca_file": path(&pki.ca()), "client_cert_file": path(&cert.cert),
            "client_key_file": path(&cert.key)});
        client(mtls_config(&server.url(), id, http)).unwrap()
    };
    let (a, b) = (make(&alice, "same-id"), make(&bob, "same-id"));
    // Same client id and token URL: the key's fingerprint tells them apart.
    assert_ne!(a.cache_key(), b.cache_key());
    assert_eq!(a.cache_key(), make(&alice, "same-id").cache_key());
    rt.block_on(async {
        let ta = a.token().await.unwrap();
        let tb = b.token().await.unwrap();
        assert_ne!(ta.secret(), tb.secret());
        assert!(a.invalidate(ta.secret()) && b.invalidate(tb.secret()));
        b.token().await.unwrap();
        a.token().await.unwrap();
    });
    let name = |der: Option<Vec<u8>>| match der {
        Some(d) if d == alice.der => "alice",
        Some(d) if d == bob.der => "bob",
        _ => "other",
    };
    let seen: Vec<_> = server
        .seen()
        .into_iter()
        .map(|s| name(s.client_cert))
        .collect();
    assert_eq!(seen, ["alice", "bob", "bob", "alice"]);
}

#[test]
fn an_explicit_proxy_tunnels_with_its_credentials() {
    let pki = Pki::new("proxy");
    let server = HttpsEndpoint::start(&pki.server(), None);
    let proxy = ConnectProxy::start(Some(("proxy-user", "pr0xy-pa55word")));
    let rt = runtime();
    let with = |proxy_url: String, no_proxy: Option<&str>| {
        let mut http = json!({"ca_file": path(&pki.ca()), "proxy": proxy_url});
        if let Some(list) = no_proxy {
            http["no_proxy"] = json!(list);
        }
        client(secret_config(&server.url(), http)).unwrap()
    };
    let authed = format!("http://proxy-user:pr0xy-pa55word@127.0.0.1:{}", proxy.port);

    let c = with(authed.clone(), None);
    assert!(!format!("{c:?}").contains("pr0xy-pa55word"));
    rt.block_on(c.token()).unwrap();
    assert_eq!((proxy.tunnels(), server.seen().len()), (1, 1));

    // `no_proxy` names the host: straight there.
    rt.block_on(with(authed, Some("127.0.0.1")).token())
        .unwrap();
    assert_eq!((proxy.tunnels(), server.seen().len()), (1, 2));

    // The wrong password: refused by the proxy, and the error shows neither.
    let wrong = format!("http://proxy-user:wr0ng-pa55word@127.0.0.1:{}", proxy.port);
    let e = rt.block_on(with(wrong, None).token()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert_eq!((proxy.tunnels(), proxy.refused()), (1, 1));
    let text = format!("{e} {e:?}");
    assert!(!text.contains("wr0ng-pa55word"), "{text}");
}

/// `HTTPS_PROXY`, `NO_PROXY` and `SSL_CERT_FILE` from the environment, each in
/// a child process of its own.
#[test]
fn the_environment_gives_a_proxy_and_a_ca() {
    let pki = Pki::new("env");
    let server = HttpsEndpoint::start(&pki.server(), None);
    let proxy = ConnectProxy::start(None);
    let ca = path(&pki.ca());
    let with_ca = secret_config(&server.url(), json!({"ca_file": ca}));
    let child = |config: &Value, env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "child_fetch",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TOKENWELL_CHILD_CONFIG", config.to_string());
        for var in [
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
        ] {
            command.env_remove(var);
        }
        command.envs(env.iter().copied());
        let out = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout
            .lines()
            .find_map(|l| l.split_once("child: ").map(|(_, r)| r.to_owned()))
            .unwrap_or_else(|| panic!("no result: {stdout}"))
    };

    let proxy_url = proxy.url();
    assert_eq!(child(&with_ca, &[("HTTPS_PROXY", &proxy_url)]), "ok");
    assert_eq!((proxy.tunnels(), server.seen().len()), (1, 1));
    let env = [
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("NO_PROXY", "127.0.0.1"),
    ];
    assert_eq!(child(&with_ca, &env), "ok");
    assert_eq!((proxy.tunnels(), server.seen().len()), (1, 2));
    // An explicit proxy replaces the environment's.
    let mut explicit = with_ca.clone();
    explicit["http"]["proxy"] = json!(proxy_url);
    let env = [("HTTPS_PROXY", "http://127.0.0.1:9")];
    assert_eq!(child(&explicit, &env), "ok");
    assert_eq!((proxy.tunnels(), server.seen().len()), (2, 3));

    // SSL_CERT_FILE replaces the system's roots with the test CA.
    let bare = secret_config(&server.url(), json!({}));
    assert_eq!(child(&bare, &[]), "network");
    assert_eq!(child(&bare, &[("SSL_CERT_FILE", &ca)]), "ok");
    assert_eq!(server.seen().len(), 4);
}

/// Run by `the_environment_gives_a_proxy_and_a_ca` in a child process.
#[test]
#[ignore]
fn child_fetch() {
    let Ok(config) = std::env::var("TOKENWELL_CHILD_CONFIG") else {
        return;
    };
    let outcome = match client(serde_json::from_str(&config).unwrap()) {
        Ok(c) => match runtime().block_on(c.token()) {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("{:?}", e.kind()).to_lowercase(),
        },
        Err(e) => format!("build: {e}"),
    };
    println!("child: {outcome}");
}

/// Each bad setting is a `config` error when the client is built, naming its
/// key and quoting no value.
#[test]
fn bad_network_settings_are_config_errors_naming_the_key() {
    let pki = Pki::new("bad");
    let alice = pki.client("alice");
    let bob = pki.client("bob");
    let not_pem = pki.file("not.pem", b"pr1vate-n0t-a-pem");
    let missing = pki.dir.join("missing.pem");
    let url = "https://id.example/token";
    let cert = path(&alice.cert);
    let key = path(&alice.key);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"ca_file": path(&missing)}), "http.ca_file"),
        (json!({"ca_file": path(&not_pem)}), "http.ca_file"),
        (json!({"ca_file": path(&pki.dir)}), "http.ca_file"),
        (json!({"ca_only": true}), "http.ca_only"),
        (json!({"client_cert_file": cert}), "http.client_cert_file"),
        (
            json!({"client_cert_file": cert, "client_key_file": path(&missing)}),
            "http.client_key_file",
        ),
        (
            json!({"client_cert_file": cert, "client_key_file": path(&not_pem)}),
            "http.client_key_file",
        ),
        (
            json!({"client_cert_file": path(&not_pem), "client_key_file": key}),
            "http.client_cert_file",
        ),
        (
            json!({"client_cert_file": cert, "client_key_file": path(&bob.key)}),
            "does not match",
        ),
        (
            json!({"proxy": "http://us3r:pr0xy-secret@[::1"}),
            "http.proxy",
        ),
        (json!({"proxy": "not a url pr0xy-secret"}), "http.proxy"),
        (
            json!({"proxy": "ftp://us3r:pr0xy-secret@proxy.example"}),
            "http.proxy",
        ),
        (json!({"no_proxy": "a.example"}), "http.no_proxy"),
    ];
    for (http, named) in &cases {
        let e = client(secret_config(url, http.clone())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{http}: {e}");
        let text = format!("{e} {e:?}");
        assert!(text.contains(named), "{http}: {text}");
        for value in ["pr0xy-secret", "us3r", "pr1vate", "PRIVATE KEY"] {
            assert!(!text.contains(value), "{http}: {text}");
        }
    }
    // Mutual TLS without its files, or with a secret it would not send.
    let e = client(mtls_config(url, "id", json!({}))).unwrap_err();
    assert!(e.to_string().contains("http.client_cert_file"), "{e}");
    let mut with_secret = mtls_config(
        url,
        "id",
        json!({"client_cert_file": cert, "client_key_file": key}),
    );
    with_secret["client_secret"] = json!("s3cr3t-value");
    let e = client(with_secret).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!e.to_string().contains("s3cr3t-value"));
}

/// Debug forms of the config and the client show no proxy password.
#[test]
fn the_proxy_password_is_never_printed() {
    let config = TokenConfig::from_value(secret_config(
        "https://id.example/token",
        json!({"proxy": "http://proxy-user:pr0xy-pa55word@proxy.example:3128"}),
    ))
    .unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("pr0xy-pa55word"), "{shown}");
    let c = TokenClient::new(config).unwrap();
    let shown = format!("{c:?} {:?}", c.profile());
    assert!(!shown.contains("pr0xy-pa55word"), "{shown}");
}
