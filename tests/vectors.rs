//! Runs every conformance vector in `tests/vectors/` against the in-process mock
//! provider, through the public Rust API, on a manual clock. The JS, Python and
//! Kotlin suites run the same files through their own APIs.

mod common;

use common::{substitute, CaptureLog, LOGS};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokenwell::fleet::Keys;
use tokenwell::mock::{MockOptions, MockServer, ScriptedResponse};
use tokenwell::{Error, ManualClock, MemoryStore, Store, TokenClient, TokenConfig};

const DEFAULT_UNIX_MS: i64 = ManualClock::DEFAULT_UNIX_MS;
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
/// A call that has not returned by then has hung: fail rather than wait forever.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The owner of the locks a vector takes in the store, playing another process.
const FOREIGN_OWNER: &str = "vectors-foreign-owner";

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "requires",
    "config",
    "clients",
    "shared_store",
    "clock",
    "expect_build_error",
    "script",
    "steps",
    "expect_requests",
    "forbidden",
];
/// Every op with the keys it may have (besides `op`).
const STEP_KEYS: &[(&str, &[&str])] = &[
    ("token", &["client", "expect", "expect_error"]),
    ("concurrent", &["calls", "client", "expect", "expect_error"]),
    ("advance", &["ms"]),
    ("shift_wall", &["ms"]),
    ("settle", &[]),
    ("invalidate", &["token", "expect", "client"]),
    ("requests", &["count"]),
    ("script", &["responses"]),
    ("start", &["id", "client"]),
    ("pending", &["id", "ms"]),
    ("join", &["id", "expect", "expect_error"]),
    ("store_fail", &["fail"]),
    ("store_lock", &["client", "ms"]),
    ("store_unlock", &["client"]),
    ("store_put", &["client", "record", "record_file", "ms"]),
];
/// What this runner can do of what a vector may `require`: everything.
const CAPABILITIES: &[&str] = &["store_control"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_vectors() {
    CaptureLog::install();
    let mock = MockServer::start(MockOptions::default())
        .await
        .expect("mock starts");
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .expect("vectors dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 25,
        "expected at least 25 vectors, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let vector: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let name = vector["name"].as_str().unwrap_or("?").to_owned();
        mock.reset();
        LOGS.clear();
        match run(&mock, &vector)
            .await
            .and_then(|()| logs_hold_no_form(&vector))
        {
            Ok(()) => println!("ok   {name}"),
            Err(e) => {
                println!("FAIL {name}: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    mock.shutdown().await;
    println!("{} vectors, {} failed", files.len(), failures.len());
    assert!(
        failures.is_empty(),
        "failed vectors:\n{}",
        failures.join("\n")
    );
}

/// The client's logs of this vector (debug level included) hold no `forbidden` form.
fn logs_hold_no_form(v: &Value) -> Result<(), String> {
    let logs = LOGS.lines();
    for (i, form) in v["forbidden"].as_array().into_iter().flatten().enumerate() {
        let form = form.as_str().unwrap_or_default();
        if logs.iter().any(|line| line.contains(form)) {
            return Err(format!("a log record leaks secret form #{i}"));
        }
    }
    Ok(())
}

/// The vector's keys, each step's op and keys, and its requirements are all
/// understood, and a vector driving the store says so in `requires`.
fn check_shape(v: &Value) -> Result<(), String> {
    for key in v.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !TOP_KEYS.contains(&key.as_str()) {
            return Err(format!("unknown vector key {key}"));
        }
    }
    let requires: Vec<&str> = v["requires"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r.as_str().unwrap_or("?"))
        .collect();
    if let Some(r) = requires.iter().find(|r| !CAPABILITIES.contains(r)) {
        return Err(format!("unknown requirement {r}"));
    }
    for (i, step) in v["steps"].as_array().into_iter().flatten().enumerate() {
        let op = step["op"].as_str().unwrap_or("");
        let Some((_, keys)) = STEP_KEYS.iter().find(|(name, _)| *name == op) else {
            return Err(format!("step {i}: unknown op {op:?}"));
        };
        for key in step.as_object().into_iter().flatten().map(|(k, _)| k) {
            if key != "op" && !keys.contains(&key.as_str()) {
                return Err(format!("step {i}: unknown key {key} for op {op}"));
            }
        }
        if op.starts_with("store_") && !requires.contains(&"store_control") {
            return Err(format!(
                "step {i}: {op} needs \"requires\": [\"store_control\"]"
            ));
        }
        if op.starts_with("store_") && v["shared_store"] != Value::Bool(true) {
            return Err(format!("step {i}: {op} needs \"shared_store\": true"));
        }
    }
    Ok(())
}

/// The record a `store_put` step stores: `record`, or the `record` field of
/// the JSON file `record_file` (relative to the vectors' directory).
fn record_of(step: &Value) -> Result<String, String> {
    match (step["record"].as_str(), step["record_file"].as_str()) {
        (Some(record), None) => Ok(record.to_owned()),
        (None, Some(file)) => {
            let text = std::fs::read_to_string(Path::new(DIR).join(file))
                .map_err(|e| format!("{file}: {e}"))?;
            let data: Value = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
            data["record"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{file} has no record"))
        }
        _ => Err("store_put takes one of record and record_file".into()),
    }
}

async fn run(mock: &MockServer, v: &Value) -> Result<(), String> {
    check_shape(v)?;
    let clock = Arc::new(ManualClock::new(
        v.pointer("/clock/unix_ms")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_UNIX_MS),
    ));
    // On the manual clock: records' time-to-live and locks run on vector time.
    let memory = v["shared_store"]
        .as_bool()
        .unwrap_or(false)
        .then(|| Arc::new(MemoryStore::with_clock(clock.clone())));
    let store: Option<Arc<dyn Store>> = memory.clone().map(|m| m as Arc<dyn Store>);
    let configs: BTreeMap<String, Value> = match v.get("clients") {
        Some(Value::Object(map)) => map.iter().map(|(k, c)| (k.clone(), c.clone())).collect(),
        _ => BTreeMap::from([("main".to_owned(), v["config"].clone())]),
    };
    // Every configured secret, and every form of one that no error text may hold.
    let mut secrets: Vec<String> = v["forbidden"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    let mut clients = BTreeMap::new();
    // Each client's keys in the store (for the store_* steps).
    let mut store_keys = BTreeMap::new();
    for (name, cfg) in configs {
        let cfg = substitute(&cfg, &mock.url());
        secrets.extend(cfg["client_secret"].as_str().map(str::to_owned));
        if let Ok(k) = TokenConfig::from_value(cfg.clone()).and_then(|c| Keys::for_config(&c)) {
            store_keys.insert(name.clone(), k);
        }
        let built = TokenConfig::from_value(cfg).and_then(|c| {
            let mut b = TokenClient::builder(c).clock(clock.clone());
            if let Some(s) = &store {
                b = b.store(s.clone());
            }
            b.build()
        });
        match (built, v.get("expect_build_error")) {
            (Ok(client), None) => {
                clients.insert(name, client);
            }
            (Err(e), Some(expected)) => return check_error(&e, expected, &secrets),
            (Ok(_), Some(_)) => return Err("expected the client build to fail".into()),
            (Err(e), None) => return Err(format!("client build failed: {e}")),
        }
    }
    if let Some(Value::Array(script)) = v.get("script") {
        mock.script(parse_script(script)?);
    }
    // The calls started in the background, by id, until joined.
    let mut started = BTreeMap::new();
    for (i, step) in v["steps"].as_array().into_iter().flatten().enumerate() {
        let client_name = step["client"].as_str().unwrap_or("main");
        let client = || {
            clients
                .get(client_name)
                .ok_or_else(|| format!("no client {client_name}"))
        };
        let keys = || {
            store_keys
                .get(client_name)
                .ok_or_else(|| format!("no client {client_name}"))
        };
        let memory = || memory.as_ref().ok_or("no shared store");
        let id = step["id"].as_str().unwrap_or("").to_owned();
        let result = async {
            match step["op"].as_str().unwrap_or("") {
                "token" => check_result(client()?.token().await, step, &secrets),
                "concurrent" => {
                    let n = step["calls"].as_u64().unwrap_or(1) as usize;
                    let client = client()?;
                    let calls = (0..n).map(|_| {
                        let c = client.clone();
                        tokio::spawn(async move { c.token().await })
                    });
                    for r in futures::future::join_all(calls).await {
                        check_result(r.map_err(|e| e.to_string())?, step, &secrets)?;
                    }
                    Ok(())
                }
                "advance" => {
                    clock.advance(step["ms"].as_u64().unwrap_or(0));
                    Ok(())
                }
                "shift_wall" => {
                    clock.shift_wall(step["ms"].as_i64().unwrap_or(0));
                    Ok(())
                }
                "settle" => {
                    for c in clients.values() {
                        c.settle().await;
                    }
                    Ok(())
                }
                "invalidate" => {
                    let dropped = client()?.invalidate(step["token"].as_str().unwrap_or(""));
                    expect_eq("invalidate", &Value::Bool(dropped), &step["expect"])
                }
                "requests" => expect_eq(
                    "request count",
                    &mock.request_count().into(),
                    &step["count"],
                ),
                "script" => {
                    mock.script(parse_script(
                        step["responses"].as_array().unwrap_or(&Vec::new()),
                    )?);
                    Ok(())
                }
                "start" => {
                    let c = client()?.clone();
                    let call = tokio::spawn(async move { c.token().await });
                    match started.insert(id.clone(), call) {
                        None => Ok(()),
                        Some(_) => Err(format!("call {id:?} started twice")),
                    }
                }
                "pending" => {
                    let call = started.get(&id).ok_or(format!("no call {id:?}"))?;
                    tokio::time::sleep(Duration::from_millis(step["ms"].as_u64().unwrap_or(0)))
                        .await;
                    match call.is_finished() {
                        false => Ok(()),
                        true => Err(format!("call {id:?} has returned")),
                    }
                }
                "join" => {
                    let call = started.remove(&id).ok_or(format!("no call {id:?}"))?;
                    let result = tokio::time::timeout(CALL_TIMEOUT, call)
                        .await
                        .map_err(|_| format!("call {id:?} did not return within {CALL_TIMEOUT:?}"))?
                        .map_err(|e| e.to_string())?;
                    check_result(result, step, &secrets)
                }
                "store_fail" => {
                    memory()?.set_failing(step["fail"].as_bool().ok_or("fail is a bool")?);
                    Ok(())
                }
                "store_lock" => {
                    let ms = step["ms"].as_u64().ok_or("ms is a number")?;
                    match memory()?.try_lock(&keys()?.lock, FOREIGN_OWNER, ms).await {
                        Ok(true) => Ok(()),
                        Ok(false) => Err("the lock is held already".into()),
                        Err(e) => Err(format!("store: {e}")),
                    }
                }
                "store_unlock" => memory()?
                    .unlock(&keys()?.lock, FOREIGN_OWNER)
                    .await
                    .map_err(|e| format!("store: {e}")),
                "store_put" => {
                    let ms = step["ms"].as_u64().ok_or("ms is a number")?;
                    memory()?
                        .put(&keys()?.token, &record_of(step)?, ms)
                        .await
                        .map_err(|e| format!("store: {e}"))
                }
                other => Err(format!("unknown op {other:?}")),
            }
        }
        .await;
        result.map_err(|e| format!("step {i} ({}): {e}", step["op"]))?;
    }
    if let Some(id) = started.keys().next() {
        return Err(format!("call {id:?} was started and never joined"));
    }
    if let Some(Value::Array(expected)) = v.get("expect_requests") {
        check_requests(mock, expected)?;
    }
    Ok(())
}

fn parse_script(items: &[Value]) -> Result<Vec<ScriptedResponse>, String> {
    items
        .iter()
        .map(|r| {
            serde_json::from_value(r.clone()).map_err(|e| format!("bad scripted response: {e}"))
        })
        .collect()
}

fn expect_eq(what: &str, got: &Value, want: &Value) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: expected {want}, got {got}"))
    }
}

fn check_result(
    result: tokenwell::Result<tokenwell::AccessToken>,
    step: &Value,
    secrets: &[String],
) -> Result<(), String> {
    match (result, step.get("expect"), step.get("expect_error")) {
        (Ok(token), Some(expect), None) => {
            for (key, want) in expect.as_object().into_iter().flatten() {
                let got: Value = match key.as_str() {
                    "access_token" => token.secret().into(),
                    "token_type" => token.token_type().into(),
                    "scope" => token.scope().into(),
                    "expires_at_unix_ms" => token.expires_at_unix_ms().into(),
                    other => return Err(format!("unknown expectation {other}")),
                };
                expect_eq(key, &got, want)?;
            }
            Ok(())
        }
        (Err(e), None, Some(expected)) => check_error(&e, expected, secrets),
        (Ok(_), _, Some(expected)) => Err(format!("expected error {expected}, got a token")),
        (Err(e), _, _) => Err(format!("unexpected error: {e}")),
        (Ok(_), None, None) => Ok(()),
    }
}

fn check_error(e: &Error, expected: &Value, secrets: &[String]) -> Result<(), String> {
    let text = format!("{e} {e:?}");
    if let Some(s) = secrets.iter().find(|s| text.contains(s.as_str())) {
        let form = secrets.iter().position(|f| f == s).unwrap_or_default();
        return Err(format!("error text leaks secret form #{form}"));
    }
    for (key, want) in expected.as_object().into_iter().flatten() {
        match key.as_str() {
            "code" => expect_eq("code", &e.code().into(), want)?,
            "status" => expect_eq("status", &e.status().into(), want)?,
            "retry_after_ms" => expect_eq("retry_after_ms", &e.retry_after_ms().into(), want)?,
            "detail_contains" => {
                let needle = want.as_str().unwrap_or("");
                if !e.detail().contains(needle) {
                    return Err(format!("detail {:?} lacks {needle:?}", e.detail()));
                }
            }
            other => return Err(format!("unknown error expectation {other}")),
        }
    }
    Ok(())
}

fn check_requests(mock: &MockServer, expected: &[Value]) -> Result<(), String> {
    let got = mock.requests();
    if got.len() != expected.len() {
        return Err(format!(
            "expected {} requests, got {}",
            expected.len(),
            got.len()
        ));
    }
    for (i, (req, want)) in got.iter().zip(expected).enumerate() {
        expect_eq(
            &format!("request {i} method"),
            &req.method.clone().into(),
            &want["method"],
        )?;
        expect_eq(
            &format!("request {i} path"),
            &req.path.clone().into(),
            &want["path"],
        )?;
        if let Some(body) = want.get("body") {
            expect_eq(&format!("request {i} body"), &req.body.clone().into(), body)?;
        }
        for (name, value) in want["headers"].as_object().into_iter().flatten() {
            let got = req
                .headers
                .get(name)
                .cloned()
                .map(Value::from)
                .unwrap_or(Value::Null);
            expect_eq(&format!("request {i} header {name}"), &got, value)?;
        }
    }
    Ok(())
}
