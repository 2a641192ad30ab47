//! Runs every fault of `tests/faults/catalogue.json` against the in-process mock
//! through the public Rust API: the error code, status and `Retry-After`, the
//! time `token()` took, the paths the mock saw, and that no error text and no
//! log record holds any form of the secret. Python, Kotlin and JS run the same
//! file (see `tests/faults/README.md`). Also: the README's fault table is the
//! catalogue's, and the catalogue's secret forms are the echo vector's.

mod common;

use common::{substitute, CaptureLog, LOGS};

use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokenwell::mock::{MockOptions, MockServer, ScriptedResponse};
use tokenwell::{TokenClient, TokenConfig};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// A call that has not returned by then has hung, whatever the fault's bound.
const HANG: Duration = Duration::from_secs(10);

fn catalogue() -> Value {
    let path = format!("{ROOT}/tests/faults/catalogue.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_ends_as_the_catalogue_says() {
    CaptureLog::install();
    let catalogue = catalogue();
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let faults = catalogue["faults"].as_array().expect("faults");
    assert!(faults.len() >= 20, "only {} faults", faults.len());
    let mut failures = Vec::new();
    for fault in faults {
        let name = fault["name"].as_str().unwrap_or("?");
        mock.reset();
        LOGS.clear();
        match run(&mock, &catalogue, fault).await {
            Ok(ms) => println!("ok   {name} ({ms} ms)"),
            Err(e) => {
                println!("FAIL {name}: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    mock.shutdown().await;
    assert!(
        failures.is_empty(),
        "failed faults:\n{}",
        failures.join("\n")
    );
}

/// Runs one fault on a fresh client; the milliseconds `token()` took.
async fn run(mock: &MockServer, catalogue: &Value, fault: &Value) -> Result<u128, String> {
    let known = [
        "name",
        "what",
        "config",
        "script",
        "expect_error",
        "max_ms",
        "min_ms",
        "paths",
    ];
    if let Some(key) = fault
        .as_object()
        .unwrap()
        .keys()
        .find(|k| !known.contains(&k.as_str()))
    {
        return Err(format!("unknown key {key}"));
    }
    let fault = substitute(fault, &mock.url());
    let mut config = substitute(&catalogue["config"], &mock.url());
    merge(&mut config, &fault["config"]);
    let client = TokenClient::builder(TokenConfig::from_value(config).map_err(|e| e.to_string())?)
        .build()
        .map_err(|e| format!("client build failed: {e}"))?;
    let script: Vec<ScriptedResponse> =
        serde_json::from_value(fault["script"].clone()).map_err(|e| format!("bad script: {e}"))?;
    mock.script(script);

    let started = Instant::now();
    let result = tokio::time::timeout(HANG, client.token())
        .await
        .map_err(|_| format!("token() hung for {HANG:?}"))?;
    let ms = started.elapsed().as_millis();

    let error = match result {
        Ok(_) => return Err("expected an error, got a token".into()),
        Err(e) => e,
    };
    let forbidden: Vec<&str> = catalogue["forbidden"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let text = format!("{error} {error:?} {}", error.detail());
    if let Some(i) = forbidden.iter().position(|f| text.contains(f)) {
        return Err(format!("error text leaks secret form #{i}"));
    }
    if let Some(i) = forbidden
        .iter()
        .position(|f| LOGS.lines().iter().any(|l| l.contains(f)))
    {
        return Err(format!("a log record leaks secret form #{i}"));
    }
    let want = &fault["expect_error"];
    let got = serde_json::json!({
        "code": error.code(),
        "status": error.status(),
        "retry_after_ms": error.retry_after_ms(),
    });
    for key in want.as_object().unwrap().keys() {
        if got.get(key).is_none() {
            return Err(format!("unknown expect_error key {key}"));
        }
        if got[key] != want[key] {
            return Err(format!(
                "{key}: expected {}, got {} ({error})",
                want[key], got[key]
            ));
        }
    }
    let max_ms = fault["max_ms"].as_u64().ok_or("no max_ms")?;
    let min_ms = fault["min_ms"].as_u64().unwrap_or(0);
    if !(min_ms as u128..=max_ms as u128).contains(&ms) {
        return Err(format!("took {ms} ms, not within {min_ms}..={max_ms}"));
    }
    let paths: Vec<String> = mock.requests().into_iter().map(|r| r.path).collect();
    if serde_json::json!(paths) != fault["paths"] {
        return Err(format!(
            "the mock saw {paths:?}, expected {}",
            fault["paths"]
        ));
    }
    Ok(ms)
}

/// Sets each key of `overrides` (an object, or null for none) in `config`.
fn merge(config: &mut Value, overrides: &Value) {
    let empty = Map::new();
    for (key, value) in overrides.as_object().unwrap_or(&empty) {
        config[key] = value.clone();
    }
}

/// The README's fault table, as the catalogue says it must read.
fn fault_table(catalogue: &Value) -> String {
    let mut table = String::from(
        "| fault | what the mock does | code | status | retry_after_ms | within |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let cell = |v: &Value| match v {
        Value::Null => "–".to_owned(),
        other => other.to_string(),
    };
    for fault in catalogue["faults"].as_array().unwrap() {
        let e = &fault["expect_error"];
        table.push_str(&format!(
            "| `{}` | {} | `{}` | {} | {} | {} ms |\n",
            fault["name"].as_str().unwrap(),
            fault["what"].as_str().unwrap(),
            e["code"].as_str().unwrap(),
            cell(&e["status"]),
            cell(&e["retry_after_ms"]),
            fault["max_ms"],
        ));
    }
    table
}

#[test]
fn the_readme_lists_every_fault_and_its_outcome() {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let table = fault_table(&catalogue());
    assert!(
        readme.contains(&table),
        "README.md's fault table is not the catalogue's; the table should read:\n\n{table}"
    );
}

#[test]
fn the_catalogue_forbids_every_form_the_echo_vector_does() {
    let vector: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/tests/vectors/secret-echo-every-form.json"))
            .unwrap(),
    )
    .unwrap();
    let catalogue = catalogue();
    assert_eq!(catalogue["forbidden"], vector["forbidden"]);
    assert_eq!(
        catalogue["config"]["client_secret"],
        vector["config"]["client_secret"]
    );
    assert_eq!(
        catalogue["config"]["client_id"],
        vector["config"]["client_id"]
    );
}
