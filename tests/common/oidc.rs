//! panva's oidc-provider, started from `tests/oidc/server.mjs` (its packages
//! are installed by `bash tests/oidc/setup.sh`, which `make test` runs), and
//! the table of its clients, `tests/oidc/clients.json`.
//!
//! Without Node or the packages, [`Launcher::start`] says why and returns
//! `None` (the test skips), unless `CI` is set: then it panics.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// `tests/oidc`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

fn read_json(name: &str) -> Value {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `clients.json`.
pub fn table() -> Value {
    read_json("clients.json")
}

/// The features of `pending.json` (rows not run yet), or none with
/// `TOKENWELL_OIDC_ALL=1` (to try them while their feature is being merged).
pub fn pending() -> Vec<String> {
    if std::env::var("TOKENWELL_OIDC_ALL").is_ok_and(|v| v == "1") {
        return Vec::new();
    }
    let list = read_json("pending.json");
    let names = list.as_array().expect("pending.json is a list");
    names
        .iter()
        .map(|n| n.as_str().expect("feature names").to_owned())
        .collect()
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Skips (`None`) saying why, or panics with `CI` set.
fn unavailable(why: String) -> Option<Launcher> {
    assert!(!ci(), "{why} (CI is set: the oidc tests may not skip)");
    eprintln!("SKIP: {why}");
    None
}

/// A running launcher; dropping it closes its stdin, which stops it.
pub struct Launcher {
    child: Child,
    pub issuer: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub admin: String,
    /// The HTTPS origin asking for client certificates (with `TOKENWELL_OIDC_MTLS_DIR`).
    pub mtls_origin: Option<String>,
}

impl Launcher {
    /// Starts the launcher and waits for its line (20 s at most).
    pub fn start() -> Option<Launcher> {
        Launcher::start_with(&[])
    }

    /// [`Launcher::start`] with these environment variables (e.g.
    /// `TOKENWELL_OIDC_MTLS_DIR`: see server.mjs).
    pub fn start_with(env: &[(&str, &str)]) -> Option<Launcher> {
        if !dir()
            .join("node_modules/oidc-provider/package.json")
            .is_file()
        {
            return unavailable(
                "tests/oidc/node_modules is missing: run `bash tests/oidc/setup.sh` (make test does)"
                    .to_owned(),
            );
        }
        let spawned = Command::new("node")
            .arg(dir().join("server.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .envs(env.iter().copied())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => return unavailable(format!("cannot run node for the oidc launcher: {e}")),
        };
        // A thread reads the first line, then drains stdout until the launcher exits.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return unavailable(format!("the oidc launcher did not start: {other:?}"));
            }
        };
        let info: Value = serde_json::from_str(&line).expect("the launcher's JSON line");
        let field = |k: &str| info[k].as_str().expect("launcher fields").to_owned();
        Some(Launcher {
            issuer: field("issuer"),
            token_endpoint: field("token_endpoint"),
            introspection_endpoint: field("introspection_endpoint"),
            admin: field("admin"),
            mtls_origin: info["mtls_origin"].as_str().map(str::to_owned),
            child,
        })
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A row's tokenwell config for `launcher`: its token endpoint (or issuer,
/// for a discovery row) added, key and certificate files resolved against
/// `tests/oidc/keys`, and `client_secret_file` (a rotation row's) set to
/// `secret_file`.
pub fn config(row: &Value, launcher: &Launcher, secret_file: Option<&Path>) -> Value {
    let mut config = row["config"].clone();
    let obj = config.as_object_mut().expect("a row's config is an object");
    if row["discovery"].as_bool() == Some(true) {
        obj.insert("issuer".into(), launcher.issuer.clone().into());
    } else {
        obj.insert("token_url".into(), launcher.token_endpoint.clone().into());
    }
    for key in ["private_key_file", "certificate_file"] {
        if let Some(Value::String(file)) = obj.get(key) {
            let path = dir().join("keys").join(file);
            obj.insert(key.into(), path.to_str().unwrap().into());
        }
    }
    if let Some(path) = secret_file {
        obj.insert("client_secret_file".into(), path.to_str().unwrap().into());
    }
    config
}
