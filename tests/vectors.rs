//! Runs every conformance vector in `tests/vectors/` against the in-process mock
//! provider, through the public Rust API, on a manual clock. The JS, Python and
//! Kotlin suites run the same files through their own APIs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokenwell::mock::{MockOptions, MockServer, ScriptedResponse};
use tokenwell::{Error, ManualClock, MemoryStore, Store, TokenClient, TokenConfig};

const DEFAULT_UNIX_MS: i64 = 1_767_225_600_000;

/// Every log record of the client (the mock's own are left out: it is the
/// server), at every level, so a vector can check that none holds a secret.
struct CaptureLog(Mutex<Vec<String>>);

impl log::Log for CaptureLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if !record.target().starts_with("tokenwell::mock") {
            let line = format!("{} {} {}", record.level(), record.target(), record.args());
            self.0.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

static LOGS: CaptureLog = CaptureLog(Mutex::new(Vec::new()));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_vectors() {
    log::set_logger(&LOGS).expect("the only logger");
    log::set_max_level(log::LevelFilter::Trace);
    let mock = MockServer::start(MockOptions::default())
        .await
        .expect("mock starts");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(dir)
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
        LOGS.0.lock().unwrap().clear();
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
    let logs = LOGS.0.lock().unwrap();
    for (i, form) in v["forbidden"].as_array().into_iter().flatten().enumerate() {
        let form = form.as_str().unwrap_or_default();
        if logs.iter().any(|line| line.contains(form)) {
            return Err(format!("a log record leaks secret form #{i}"));
        }
    }
    Ok(())
}

/// Replaces `{mock}` in every string with the mock's base URL.
fn substitute(v: &Value, base: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{mock}", base)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, base)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, base)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn run(mock: &MockServer, v: &Value) -> Result<(), String> {
    let clock = Arc::new(ManualClock::new(
        v.pointer("/clock/unix_ms")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_UNIX_MS),
    ));
    let store: Option<Arc<dyn Store>> = v["shared_store"]
        .as_bool()
        .unwrap_or(false)
        .then(|| Arc::new(MemoryStore::new()) as Arc<dyn Store>);
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
    for (name, cfg) in configs {
        let cfg = substitute(&cfg, &mock.url());
        secrets.extend(cfg["client_secret"].as_str().map(str::to_owned));
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
    for (i, step) in v["steps"].as_array().into_iter().flatten().enumerate() {
        let client_name = step["client"].as_str().unwrap_or("main");
        let client = || {
            clients
                .get(client_name)
                .ok_or_else(|| format!("no client {client_name}"))
        };
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
                other => Err(format!("unknown op {other:?}")),
            }
        }
        .await;
        result.map_err(|e| format!("step {i} ({}): {e}", step["op"]))?;
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
