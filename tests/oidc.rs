//! Every row of `tests/oidc/clients.json` against panva's oidc-provider (an
//! OpenID Certified server), started once for the run by `tests/oidc/server.mjs`:
//! a token, which the server's introspection endpoint reports active for the
//! row's client; invalidated; a second, different one, also active. A rotation
//! row changes the client's secret on the server and in its file in between.
//! Rows whose feature is in `tests/oidc/pending.json` are skipped, saying so.
//!
//! Without Node or the launcher's packages the test skips saying why, unless
//! `CI` is set: then it fails.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/oidc.rs"]
mod oidc;
#[path = "common/tls.rs"]
mod tls;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokenwell::{TokenClient, TokenConfig};

use oidc::Launcher;

/// The test's own HTTP calls (introspection, the launcher's admin route).
struct Server<'a> {
    launcher: &'a Launcher,
    introspector: (String, String),
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

impl<'a> Server<'a> {
    /// The launched server, introspected as the table's introspector client.
    fn new(launcher: &'a Launcher, table: &Value, rt: tokio::runtime::Runtime) -> Self {
        let field = |name: &str| table["introspector"][name].as_str().unwrap().to_owned();
        Server {
            launcher,
            introspector: (field("client_id"), field("client_secret")),
            http: reqwest::Client::new(),
            rt,
        }
    }

    /// What the introspection endpoint says of `token`.
    fn introspect(&self, token: &str) -> Value {
        let (id, secret) = &self.introspector;
        self.rt.block_on(async {
            let res = self
                .http
                .post(&self.launcher.introspection_endpoint)
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "token={}",
                    url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
                ))
                .send()
                .await
                .expect("introspection request");
            assert_eq!(res.status(), 200, "introspection status");
            let body = res.bytes().await.expect("introspection body");
            serde_json::from_slice(&body).expect("introspection JSON")
        })
    }

    /// Sets a rotating client's secret on the server.
    fn set_secret(&self, client_id: &str, secret: &str) {
        self.rt.block_on(async {
            let url = format!("{}/clients/{client_id}/secret", self.launcher.admin);
            let res = self
                .http
                .put(url)
                .body(secret.to_owned())
                .send()
                .await
                .expect("admin request");
            assert_eq!(res.status(), 204, "the launcher's admin route");
        })
    }
}

/// Replaces `path`'s content at once (a new file renamed over it), as a
/// Kubernetes secret volume does.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// One row; `Err` says what went wrong (never a token or a secret).
fn run_row(server: &Server<'_>, row: &Value, scratch: &Path) -> Result<(), String> {
    let client_id = row["config"]["client_id"].as_str().unwrap();
    let rotate = row.get("rotate");
    let secret_file = rotate.map(|r| {
        let path = scratch.join(format!("{client_id}.secret"));
        replace_file(&path, r["secrets"][0].as_str().unwrap());
        server.set_secret(client_id, r["secrets"][0].as_str().unwrap());
        path
    });
    let config = oidc::config(row, server.launcher, secret_file.as_deref());
    let config = TokenConfig::from_value(config).map_err(|e| e.to_string())?;
    let client = TokenClient::new(config).map_err(|e| format!("client: {e}"))?;
    let get = || futures::executor::block_on(client.token());
    let check = |token: &tokenwell::AccessToken| -> Result<(), String> {
        let expect = &row["expect"];
        if let Some(t) = expect["token_type"].as_str() {
            if !token.token_type().eq_ignore_ascii_case(t) {
                return Err(format!("token_type {}", token.token_type()));
            }
        }
        let info = server.introspect(token.secret());
        if info["active"] != expect["active"] || info["client_id"].as_str() != Some(client_id) {
            return Err(format!(
                "introspection: active {} client_id {}",
                info["active"], info["client_id"]
            ));
        }
        if let Some(scope) = expect["scope"].as_str() {
            if info["scope"].as_str() != Some(scope) {
                return Err(format!("scope {}", info["scope"]));
            }
        }
        Ok(())
    };

    let first = get().map_err(|e| format!("first token: {e}"))?;
    check(&first)?;
    if let (Some(r), Some(path)) = (rotate, &secret_file) {
        let next = r["secrets"][1].as_str().unwrap();
        server.set_secret(client_id, next);
        client.invalidate(first.secret());
        match get() {
            Ok(_) => return Err("a token with the replaced secret".into()),
            Err(e) if Some(e.code()) == r["stale"].as_str() => {}
            Err(e) => {
                return Err(format!(
                    "with the replaced secret: {} instead of {}",
                    e.code(),
                    r["stale"]
                ))
            }
        }
        replace_file(path, next);
        // The row's backoff is 1 ms: past it, the next call fetches again.
        std::thread::sleep(Duration::from_millis(50));
    } else if !client.invalidate(first.secret()) {
        return Err("invalidate dropped nothing".into());
    }
    let second = get().map_err(|e| format!("second token: {e}"))?;
    check(&second)?;
    if second.secret() == first.secret() {
        return Err("the second token is the first".into());
    }
    Ok(())
}

#[test]
fn every_client_of_the_table_gets_tokens_the_server_honours() {
    let started = Instant::now();
    let Some(launcher) = Launcher::start() else {
        return;
    };
    let ready = started.elapsed();
    let table = oidc::table();
    let pending = oidc::pending();
    let server = Server::new(&launcher, &table, runtime());
    let scratch = std::env::temp_dir().join(format!("tokenwell-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();

    let mut failures = Vec::new();
    let mut ran = 0;
    for row in table["rows"].as_array().unwrap() {
        let name = row["name"].as_str().unwrap();
        let feature = row["feature"].as_str().unwrap();
        if pending.iter().any(|p| p == feature) {
            eprintln!("SKIP: {name}: feature {feature} is pending (tests/oidc/pending.json)");
            continue;
        }
        ran += 1;
        if let Err(why) = run_row(&server, row, &scratch) {
            failures.push(format!("{name}: {why}"));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    drop(server);
    drop(launcher);
    eprintln!(
        "oidc: {ran} rows in {:?} (launcher ready in {ready:?})",
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran > 0, "no row ran");
}

/// Mutual TLS client authentication (RFC 8705 `tls_client_auth`): the launcher
/// serves HTTPS asking for a client certificate of a test CA, and advertises
/// that endpoint as the metadata's `mtls_endpoint_aliases`. Discovery picks the
/// alias; the server verifies the certificate and its subject, and its
/// introspection reports the token active. A certificate of another subject is
/// refused.
#[test]
fn mutual_tls_client_auth_gets_a_token_the_server_honours() {
    let pki = tls::Pki::new("oidc");
    pki.server(); // server.crt and server.key, as the launcher reads them
    let dir = tls::path(&pki.dir);
    let Some(launcher) = Launcher::start_with(&[("TOKENWELL_OIDC_MTLS_DIR", &dir)]) else {
        return;
    };
    let alias = launcher
        .mtls_origin
        .clone()
        .expect("the launcher serves mTLS");
    let rt = runtime();
    let client = |cert: &tls::Issued| {
        let config = serde_json::json!({
            "provider": "custom", "issuer": launcher.issuer, "client_id": "mtls-client",
            "credentials": "tls_client_auth",
            "http": {"ca_file": tls::path(&pki.ca()), "client_cert_file": tls::path(&cert.cert),
                "client_key_file": tls::path(&cert.key)},
        });
        TokenClient::new(TokenConfig::from_value(config).unwrap()).unwrap()
    };
    let token = rt
        .block_on(client(&pki.client("mtls-client")).token())
        .unwrap_or_else(|e| panic!("tls_client_auth via {alias}: {e}"));
    let table = oidc::table();
    let server = Server::new(&launcher, &table, rt);
    let info = server.introspect(token.secret());
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], "mtls-client", "{info}");
    let e = server
        .rt
        .block_on(client(&pki.client("intruder")).token())
        .unwrap_err();
    assert!(e.detail().contains("invalid_client"), "{e}");
}

/// The table and the pending list name only features the runners know.
#[test]
fn the_table_names_known_features() {
    let known = [
        "secret_basic",
        "secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "discovery",
        "rotation",
    ];
    let table = oidc::table();
    for row in table["rows"].as_array().unwrap() {
        let feature = row["feature"].as_str().unwrap();
        assert!(known.contains(&feature), "unknown feature {feature}");
        assert!(row["config"].get("token_url").is_none());
        assert!(row["config"].get("issuer").is_none());
    }
    for feature in oidc::pending() {
        assert!(known.contains(&feature.as_str()), "pending.json: {feature}");
    }
}
