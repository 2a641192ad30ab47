//! The config schema has one source, the Rust type: `schema/config.schema.json`
//! is generated from it (schemars) and must match, the snake_case and camelCase
//! spellings the core accepts are both in it, and unknown keys are refused with
//! an error that names them. The Kotlin, TypeScript and Python suites check
//! their own declarations against the same file.
//!
//! Regenerate after changing the config: `TOKENWELL_BLESS=1 cargo test --features schema --test schema`.
#![cfg(feature = "schema")]

use serde_json::{json, Map, Value};
use tokenwell::{ErrorKind, TokenConfig};

const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/config.schema.json");

/// `client_id` → `clientId`.
fn camel(key: &str) -> String {
    let mut parts = key.split('_');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let mut chars = part.chars();
        out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        out.push_str(chars.as_str());
    }
    out
}

/// Adds the camelCase spelling of every multi-word property (the core accepts
/// both: serde aliases), each with the same schema; a required one may come in
/// either spelling.
fn with_camel_case(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            // Inner schemas first: what is added below must not be rewritten again.
            map.values_mut().for_each(with_camel_case);
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                let extra: Vec<(String, Value)> = props
                    .iter()
                    .filter(|(k, _)| k.contains('_'))
                    .map(|(k, v)| (camel(k), v.clone()))
                    .collect();
                props.extend(extra);
            }
            if let Some(Value::Array(required)) = map.get("required").cloned() {
                let (multi, single): (Vec<Value>, Vec<Value>) = required
                    .into_iter()
                    .partition(|k| k.as_str().is_some_and(|k| k.contains('_')));
                let either: Vec<Value> = multi
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|k| json!({"anyOf": [{"required": [k]}, {"required": [camel(k)]}]}))
                    .collect();
                map.insert("required".into(), Value::Array(single));
                if !either.is_empty() {
                    map.insert("allOf".into(), Value::Array(either));
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(with_camel_case),
        _ => {}
    }
}

fn generated() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(TokenConfig)).unwrap();
    with_camel_case(&mut schema);
    let obj = schema.as_object_mut().unwrap();
    obj.insert(
        "$id".into(),
        "https://github.com/tokenwell/tokenwell/schema/config.schema.json".into(),
    );
    obj.insert(
        "$comment".into(),
        "Generated from src/config.rs by tests/schema.rs; do not edit. Every multi-word key is accepted in snake_case and camelCase.".into(),
    );
    schema
}

#[test]
fn the_published_schema_is_generated_from_the_config_type() {
    let schema = generated();
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("TOKENWELL_BLESS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(SCHEMA_FILE).parent().unwrap()).unwrap();
        std::fs::write(SCHEMA_FILE, &text).unwrap();
    }
    let published = std::fs::read_to_string(SCHEMA_FILE).unwrap_or_default();
    assert!(
        published == text,
        "schema/config.schema.json is stale: run TOKENWELL_BLESS=1 cargo test --features schema --test schema"
    );
}

/// A config that sets every key of the schema, in snake_case.
fn full_config() -> Value {
    json!({
        "provider": "custom", "name": "billing", "environment": "production", "region": "eu",
        "base_url": "https://auth.example.com", "token_url": "https://auth.example.com/token",
        "issuer": "https://auth.example.com", "discovery_ttl_secs": 86400,
        "client_id": "id", "client_secret": "s3cr3t-value",
        "client_secret_file": "/run/secrets/tokenwell/client-secret",
        "audience": "https://api.example.com", "scope": "a b", "ttl": 3600,
        "grant_type": "client_credentials", "encoding": "json", "credentials": "basic",
        "basic_encoding": "form",
        "issuer": "https://auth.example.com", "private_key": "-----BEGIN PRIVATE KEY-----",
        "private_key_file": "/etc/keys/client.pk8.pem",
        "certificate_file": "/etc/keys/client.cert.pem", "key_id": "key-1",
        "assertion": {"algorithm": "PS256", "audience": "issuer", "lifetime_secs": 120},
        "field_names": {"client_id": "clientId", "client_secret": "clientSecret",
                        "grant_type": "grantType", "audience": "aud", "scope": "scp", "ttl": "t"},
        "extra_params": {"userAccessType": "TOAST_MACHINE_CLIENT", "n": 1, "b": true},
        "headers": {"x-partner": "acme"},
        "response": {"access_token": "token.accessToken", "token_type": "token.type",
                     "scope": "token.scope", "expires_in": "token.expiresIn",
                     "expires_at": "token.expiresAt", "created_at": "token.createdAt",
                     "success": {"path": "status", "equals": "SUCCESS"}},
        "policy": {"refresh_ratio": 0.8, "skew_ratio": 0.1, "max_skew_secs": 30,
                   "default_lifetime_secs": 300, "backoff_initial_ms": 1000, "backoff_max_ms": 60000,
                   "refresh_jitter_ratio": 0.1, "refresh_window_secs": 60,
                   "max_requests_per_hour": 100},
        "http": {"connect_timeout_ms": 5000, "timeout_ms": 15000,
            "proxy": "http://proxy.internal:3128", "no_proxy": "internal.example",
            "ca_file": "/etc/tokenwell/ca.pem", "ca_only": false,
            "client_cert_file": "/etc/tokenwell/client.pem",
            "client_key_file": "/etc/tokenwell/client.key"},
        "store": {"redis_url": "rediss://:pw@cache.internal:6380/0", "key_prefix": "acme",
                  "timeout_ms": 300, "lock_wait_ms": 5000, "ca_file": "/etc/ssl/private-ca.pem",
                  "cluster_nodes": ["cache-1.internal:6380"],
                  "sentinel": {"nodes": ["sentinel-1.internal:26379"], "service": "tokens"}},
        "developer_id": "dev-1", "signing_secret": "c2lnbmluZw"
    })
}

/// Every property path of an object schema, resolving `$ref`s into `$defs`.
fn schema_paths(schema: &Value, node: &Value, prefix: &str, out: &mut Vec<String>) {
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(r) => &schema["$defs"][r.trim_start_matches("#/$defs/")],
        None => node,
    };
    for alt in ["anyOf", "oneOf", "allOf"] {
        for sub in node
            .get(alt)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            schema_paths(schema, sub, prefix, out);
        }
    }
    if let Some(Value::Object(props)) = node.get("properties") {
        for (k, v) in props
            .iter()
            .filter(|(k, _)| !k.chars().any(char::is_uppercase))
        {
            let path = format!("{prefix}{k}");
            out.push(path.clone());
            if !matches!(k.as_str(), "extra_params" | "headers" | "equals") {
                schema_paths(schema, v, &format!("{path}."), out);
            }
        }
    }
}

fn value_paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = v {
        for (k, x) in map {
            let path = format!("{prefix}{k}");
            out.push(path.clone());
            if !matches!(k.as_str(), "extra_params" | "headers" | "equals") {
                value_paths(x, &format!("{path}."), out);
            }
        }
    }
}

fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, x)| {
                    let keep = matches!(k.as_str(), "extra_params" | "headers");
                    (camel(k), if keep { x.clone() } else { camel_keys(x) })
                })
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

#[test]
fn the_core_accepts_every_key_of_the_schema_in_both_spellings() {
    let schema = generated();
    let (mut in_schema, mut in_example) = (Vec::new(), Vec::new());
    schema_paths(&schema, &schema, "", &mut in_schema);
    value_paths(&full_config(), "", &mut in_example);
    in_schema.sort();
    in_example.sort();
    assert_eq!(
        in_schema, in_example,
        "full_config() must set every key of the schema"
    );
    let snake = TokenConfig::from_value(full_config()).expect("snake_case accepted");
    let camel = TokenConfig::from_value(camel_keys(&full_config())).expect("camelCase accepted");
    assert_eq!(format!("{snake:?}"), format!("{camel:?}"));
}

#[test]
fn unknown_keys_are_refused_with_an_error_naming_them() {
    let mut typo = full_config();
    let secret = typo
        .as_object_mut()
        .unwrap()
        .remove("client_secret")
        .unwrap();
    typo["client_secert"] = secret;
    let mut nested = full_config();
    nested["policy"]["refresh_ratoi"] = json!(0.5);
    for (config, key) in [(typo, "client_secert"), (nested, "refresh_ratoi")] {
        let err = TokenConfig::from_value(config).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.detail().contains(key), "{}", err.detail());
        assert!(!err.detail().contains("s3cr3t-value"));
    }
}
