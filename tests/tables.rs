//! The event and metrics tables as JSON (`schema/events.json`,
//! `schema/metrics.json`), generated from the core's `EVENTS` and `METRICS`
//! like the config schema: the npm package reads them from there (records
//! through the WebAssembly would cost it kilobytes), Python and Kotlin read
//! the same tables through uniffi. A stale file fails here.

use serde_json::{json, Value};
use tokenwell::EVENTS;
use tokenwell::METRICS;

fn check(path: &str, value: Value) {
    let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
    if std::env::var_os("TOKENWELL_BLESS").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let published = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        published == text,
        "{path} is stale: run TOKENWELL_BLESS=1 cargo test --test tables"
    );
}

#[test]
fn the_published_tables_are_generated_from_the_core() {
    let events: Vec<Value> = EVENTS
        .iter()
        .map(|k| json!({"name": k.name, "fields": k.fields}))
        .collect();
    check(
        "schema/events.json",
        json!({"$comment": "Generated from src/events.rs by tests/tables.rs; do not edit.", "events": events}),
    );
    let metrics: Vec<Value> = METRICS
        .iter()
        .map(|m| {
            json!({"name": m.name, "instrument": m.instrument.code(), "unit": m.unit,
                   "description": m.description, "attributes": m.attributes})
        })
        .collect();
    check(
        "schema/metrics.json",
        json!({"$comment": "Generated from src/metrics.rs by tests/tables.rs; do not edit.", "metrics": metrics}),
    );
}
