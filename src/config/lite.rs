//! The config's reader in the WebAssembly build: what `de::from_value` makes of
//! a `TokenConfig` through the derived `Deserialize` impls (the same decisions,
//! in the same order, with the same messages), written out by hand. The derived
//! visitors of the config's eight structs were a third of the module's Rust
//! code; this is a fraction of that. The four unit enums are read from tables
//! here too; the provider and the maps' values still go through serde
//! (`de::from_value`): small, and worded there.
//!
//! `tests::same_as_derive` holds it to `de::from_value` over the corpus of
//! `de`'s tests (every conformance config, each key in turn odd, missing,
//! doubled or unknown, and an unknown key in every struct): a field added to a
//! config struct fails it until it is read here.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _, Unexpected};
use serde_json::Value;

use super::de::{self, Error};
use super::{AssertionAlgorithm, BasicEncoding, CredentialsIn, Encoding};
use super::{FieldNames, HttpOptions, Policy, ResponseMapping, StoreOptions, SuccessCheck};
use super::{Secret, TokenConfig};

type R<T> = Result<T, Error>;

/// `value` as a `TokenConfig`, as `de::from_value` reads it.
pub(crate) fn from_value(value: &Value) -> R<TokenConfig> {
    token_config(value)
}

/// A struct's fields as `(name, alias)`, the name twice for a field without alias.
type Fields = [(&'static str, &'static str)];

/// Reads an object as the derived `visit_map` of a struct does: entry by entry
/// in the map's order, each key one of `fields`' spellings (else an `unknown
/// field` error), a field given twice under either spelling an error, each value
/// handed to `set` with its field's index. Anything but an object is an
/// `invalid type` error (`expecting` is the struct's `struct Name`).
fn visit(
    value: &Value,
    expecting: &'static str,
    fields: &'static Fields,
    mut set: impl FnMut(usize, &Value) -> R<()>,
) -> R<()> {
    let Value::Object(object) = value else {
        return Err(invalid_type(value, expecting));
    };
    let mut seen = 0u64;
    for (key, value) in object {
        let Some(i) = fields
            .iter()
            .position(|&(name, alias)| key == name || key == alias)
        else {
            return Err(unknown_field(key, fields));
        };
        if seen & 1 << i != 0 {
            return Err(Error::duplicate_field(fields[i].0));
        }
        seen |= 1 << i;
        set(i, value)?;
    }
    Ok(())
}

/// serde's `unknown field` message: the expected spellings in the derived
/// `FIELDS` order (field by field, each field's spellings sorted: the camelCase
/// alias before the snake_case name).
#[cold]
fn unknown_field(key: &str, fields: &Fields) -> Error {
    let spellings: Vec<&str> = fields
        .iter()
        .flat_map(|&(name, alias)| [(alias != name).then_some(alias), Some(name)])
        .flatten()
        .collect();
    let expected = match spellings.as_slice() {
        [a, b] => format!("`{a}` or `{b}`"),
        all => format!("one of `{}`", all.join("`, `")),
    };
    Error::custom(format!("unknown field `{key}`, expected {expected}"))
}

/// serde's `invalid type` error, in one place for every reader here.
#[cold]
#[inline(never)]
fn invalid_type(value: &Value, expected: &'static str) -> Error {
    Error::invalid_type(de::unexpected(value), &expected)
}

/// A required field the object left out.
fn required<T>(field: Option<T>, name: &'static str) -> R<T> {
    field.ok_or_else(|| Error::missing_field(name))
}

/// `None` for `null`, else `read`'s value (serde's `Option`).
fn opt<T>(value: &Value, read: impl FnOnce(&Value) -> R<T>) -> R<Option<T>> {
    match value {
        Value::Null => Ok(None),
        value => read(value).map(Some),
    }
}

/// What serde makes of `value` (the types whose impls are small or worded
/// there: the provider).
fn derived<T: DeserializeOwned>(value: &Value) -> R<T> {
    de::from_value(value)
}

/// A unit-only enum as its derived impl reads it: one of `names` (its
/// variants' names and aliases, in the derived `VARIANTS` order, which
/// `unknown variant` quotes), or an object of one such key whose value is
/// `null`. `variants[i]` is what `names[i]` reads as.
fn unit_enum<T: Copy>(value: &Value, names: &'static [&'static str], variants: &[T]) -> R<T> {
    let (name, unit) = match value {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) if o.len() == 1 => {
            let (k, v) = o.iter().next().expect("one entry");
            (k.as_str(), Some(v))
        }
        Value::Object(_) => {
            return Err(Error::invalid_value(
                Unexpected::Map,
                &"map with a single key",
            ))
        }
        other => return Err(invalid_type(other, "string or map")),
    };
    let Some(i) = names.iter().position(|n| *n == name) else {
        return Err(Error::unknown_variant(name, names));
    };
    match unit {
        None | Some(Value::Null) => Ok(variants[i]),
        Some(other) => Err(invalid_type(other, "unit")),
    }
}

fn encoding_of(value: &Value) -> R<Encoding> {
    use Encoding::*;
    unit_enum(
        value,
        &["json", "form", "multipart"],
        &[Json, Form, Multipart],
    )
}

fn credentials_in(value: &Value) -> R<CredentialsIn> {
    use CredentialsIn::*;
    let names = &[
        "body",
        "client_secret_post",
        "basic",
        "client_secret_basic",
        "both",
        "client_secret_jwt",
        "private_key_jwt",
        "tls_client_auth",
        "self_signed_tls_client_auth",
    ];
    let variants = [
        Body,
        Body,
        Basic,
        Basic,
        Both,
        ClientSecretJwt,
        PrivateKeyJwt,
        TlsClientAuth,
        SelfSignedTlsClientAuth,
    ];
    unit_enum(value, names, &variants)
}

fn basic_encoding_of(value: &Value) -> R<BasicEncoding> {
    use BasicEncoding::*;
    unit_enum(value, &["form", "raw"], &[Form, Raw])
}

fn algorithm(value: &Value) -> R<AssertionAlgorithm> {
    use AssertionAlgorithm::*;
    unit_enum(
        value,
        &["RS256", "PS256", "ES256", "HS256"],
        &[RS256, PS256, ES256, HS256],
    )
}

fn string(value: &Value) -> R<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid_type(other, "a string")),
    }
}

/// serde's `bool` (the native-only `http.ca_only`).
#[cfg(not(target_arch = "wasm32"))]
fn boolean(value: &Value) -> R<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(invalid_type(other, "a boolean")),
    }
}

fn opt_string(value: &Value) -> R<Option<String>> {
    opt(value, string)
}

/// serde's `u64`: a non-negative integer; a negative one is an `invalid value`,
/// a float or anything else an `invalid type`.
fn uint(value: &Value) -> R<u64> {
    match value {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Ok(u),
            (None, Some(_)) => Err(Error::invalid_value(de::unexpected(value), &"u64")),
            _ => Err(invalid_type(value, "u64")),
        },
        other => Err(invalid_type(other, "u64")),
    }
}

/// serde's `u32`: as [`uint`], and an `invalid value` past `u32::MAX`.
fn uint32(value: &Value) -> R<u32> {
    let out_of_range = || Error::invalid_value(de::unexpected(value), &"u32");
    match value {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u32::try_from(u).map_err(|_| out_of_range()),
            (None, Some(_)) => Err(out_of_range()),
            _ => Err(invalid_type(value, "u32")),
        },
        other => Err(invalid_type(other, "u32")),
    }
}

/// serde's `f64`: any number.
fn float(value: &Value) -> R<f64> {
    match value {
        Value::Number(n) => Ok(n.as_f64().unwrap_or_default()),
        other => Err(invalid_type(other, "f64")),
    }
}

/// serde's `BTreeMap<String, V>`: an object, each value read by `read`.
fn map<V>(value: &Value, read: impl Fn(&Value) -> R<V>) -> R<BTreeMap<String, V>> {
    match value {
        // Inserted one by one: collecting would link a sort and a bulk build.
        Value::Object(o) => {
            let mut map = BTreeMap::new();
            for (k, v) in o {
                map.insert(k.clone(), read(v)?);
            }
            Ok(map)
        }
        other => Err(invalid_type(other, "a map")),
    }
}

/// serde's `Vec<String>`.
#[cfg(not(target_arch = "wasm32"))]
fn strings(value: &Value) -> R<Vec<String>> {
    match value {
        Value::Array(a) => a.iter().map(string).collect(),
        other => Err(invalid_type(other, "a sequence")),
    }
}

const TOKEN_CONFIG: &Fields = &[
    ("provider", "provider"),
    ("name", "name"),
    ("environment", "environment"),
    ("region", "region"),
    ("base_url", "baseUrl"),
    ("token_url", "tokenUrl"),
    ("issuer", "issuer"),
    ("discovery_ttl_secs", "discoveryTtlSecs"),
    ("client_id", "clientId"),
    ("client_secret", "clientSecret"),
    ("client_secret_file", "clientSecretFile"),
    ("private_key", "privateKey"),
    ("private_key_file", "privateKeyFile"),
    ("certificate_file", "certificateFile"),
    ("key_id", "keyId"),
    ("assertion", "assertion"),
    ("audience", "audience"),
    ("scope", "scope"),
    ("ttl", "ttl"),
    ("grant_type", "grantType"),
    ("encoding", "encoding"),
    ("credentials", "credentials"),
    ("basic_encoding", "basicEncoding"),
    ("field_names", "fieldNames"),
    ("extra_params", "extraParams"),
    ("headers", "headers"),
    ("response", "response"),
    ("policy", "policy"),
    ("http", "http"),
    ("store", "store"),
    ("developer_id", "developerId"),
    ("signing_secret", "signingSecret"),
];

fn token_config(value: &Value) -> R<TokenConfig> {
    let (mut provider, mut client_id, mut client_secret) = (None, None, None);
    let (mut name, mut environment, mut region) = (None, None, None);
    let (mut base_url, mut token_url) = (None, None);
    let (mut issuer, mut discovery_ttl_secs) = (None, None);
    let (mut private_key, mut private_key_file, mut client_secret_file) = (None, None, None);
    let (mut certificate_file, mut key_id, mut assertion) = (None, None, None);
    let (mut audience, mut scope, mut ttl, mut grant_type) = (None, None, None, None);
    let (mut encoding, mut credentials, mut basic_encoding) = (None, None, Default::default());
    let (mut field_names, mut extra_params) = (FieldNames::default(), BTreeMap::new());
    let mut headers = BTreeMap::new();
    let (mut response, mut policy) = (ResponseMapping::default(), Policy::default());
    let (mut http, mut store) = (HttpOptions::default(), None);
    let (mut developer_id, mut signing_secret) = (None, None);
    visit(value, "struct TokenConfig", TOKEN_CONFIG, |i, v| {
        match i {
            0 => provider = Some(derived(v)?),
            1 => name = opt_string(v)?,
            2 => environment = opt_string(v)?,
            3 => region = opt_string(v)?,
            4 => base_url = opt_string(v)?,
            5 => token_url = opt_string(v)?,
            6 => issuer = opt_string(v)?,
            7 => discovery_ttl_secs = opt(v, uint)?,
            8 => client_id = Some(string(v)?),
            9 => client_secret = opt(v, |v| string(v).map(Secret::from))?,
            10 => client_secret_file = opt_string(v)?,
            11 => private_key = opt(v, |v| string(v).map(Secret::from))?,
            12 => private_key_file = opt_string(v)?,
            13 => certificate_file = opt_string(v)?,
            14 => key_id = opt_string(v)?,
            15 => assertion = opt(v, assertion_options)?,
            16 => audience = opt_string(v)?,
            17 => scope = opt_string(v)?,
            18 => ttl = opt(v, uint)?,
            19 => grant_type = opt_string(v)?,
            20 => encoding = opt(v, encoding_of)?,
            21 => credentials = opt(v, credentials_in)?,
            22 => basic_encoding = basic_encoding_of(v)?,
            23 => field_names = field_names_of(v)?,
            24 => extra_params = map(v, |v| Ok(v.clone()))?,
            25 => headers = map(v, string)?,
            26 => response = response_mapping(v)?,
            27 => policy = policy_of(v)?,
            28 => http = http_options(v)?,
            29 => store = opt(v, store_options)?,
            30 => developer_id = opt_string(v)?,
            _ => signing_secret = opt(v, |v| string(v).map(Secret::from))?,
        }
        Ok(())
    })?;
    Ok(TokenConfig {
        provider: required(provider, "provider")?,
        name,
        environment,
        region,
        base_url,
        token_url,
        client_id: client_id.unwrap_or_default(),
        client_secret,
        client_secret_file,
        issuer,
        discovery_ttl_secs,
        private_key,
        private_key_file,
        certificate_file,
        key_id,
        assertion,
        audience,
        scope,
        ttl,
        grant_type,
        encoding,
        credentials,
        basic_encoding,
        field_names,
        extra_params,
        headers,
        response,
        policy,
        http,
        store,
        developer_id,
        signing_secret,
    })
}

fn assertion_options(value: &Value) -> R<super::AssertionOptions> {
    let mut options = super::AssertionOptions::default();
    visit(
        value,
        "struct AssertionOptions",
        &[
            ("algorithm", "algorithm"),
            ("audience", "audience"),
            ("lifetime_secs", "lifetimeSecs"),
        ],
        |i, v| {
            match i {
                0 => options.algorithm = opt(v, algorithm)?,
                1 => options.audience = opt_string(v)?,
                _ => options.lifetime_secs = opt(v, uint)?,
            }
            Ok(())
        },
    )?;
    Ok(options)
}

#[cfg(target_arch = "wasm32")]
const STORE_OPTIONS: &Fields = &[
    ("redis_url", "redisUrl"),
    ("key_prefix", "keyPrefix"),
    ("timeout_ms", "timeoutMs"),
    ("lock_wait_ms", "lockWaitMs"),
    ("ca_file", "caFile"),
];

#[cfg(not(target_arch = "wasm32"))]
const STORE_OPTIONS: &Fields = &[
    ("redis_url", "redisUrl"),
    ("key_prefix", "keyPrefix"),
    ("timeout_ms", "timeoutMs"),
    ("lock_wait_ms", "lockWaitMs"),
    ("ca_file", "caFile"),
    ("cluster_nodes", "clusterNodes"),
    ("sentinel", "sentinel"),
];

fn store_options(value: &Value) -> R<StoreOptions> {
    let mut store = StoreOptions::default();
    visit(value, "struct StoreOptions", STORE_OPTIONS, |i, v| {
        match i {
            0 => store.redis_url = opt(v, |v| string(v).map(Secret::from))?,
            1 => store.key_prefix = opt_string(v)?,
            2 => store.timeout_ms = opt(v, uint)?,
            3 => store.lock_wait_ms = opt(v, uint)?,
            #[cfg(not(target_arch = "wasm32"))]
            5 => store.cluster_nodes = opt(v, strings)?,
            #[cfg(not(target_arch = "wasm32"))]
            6 => store.sentinel = opt(v, sentinel_options)?,
            _ => store.ca_file = opt_string(v)?,
        }
        Ok(())
    })?;
    Ok(store)
}

#[cfg(not(target_arch = "wasm32"))]
fn sentinel_options(value: &Value) -> R<super::SentinelOptions> {
    let (mut nodes, mut service) = (None, None);
    visit(
        value,
        "struct SentinelOptions",
        &[("nodes", "nodes"), ("service", "service")],
        |i, v| {
            match i {
                0 => nodes = Some(strings(v)?),
                _ => service = Some(string(v)?),
            }
            Ok(())
        },
    )?;
    Ok(super::SentinelOptions {
        nodes: required(nodes, "nodes")?,
        service: required(service, "service")?,
    })
}

const FIELD_NAMES: &Fields = &[
    ("client_id", "clientId"),
    ("client_secret", "clientSecret"),
    ("grant_type", "grantType"),
    ("audience", "audience"),
    ("scope", "scope"),
    ("ttl", "ttl"),
];

fn field_names_of(value: &Value) -> R<FieldNames> {
    let mut names = FieldNames::default();
    visit(value, "struct FieldNames", FIELD_NAMES, |i, v| {
        let name = opt_string(v)?;
        match i {
            0 => names.client_id = name,
            1 => names.client_secret = name,
            2 => names.grant_type = name,
            3 => names.audience = name,
            4 => names.scope = name,
            _ => names.ttl = name,
        }
        Ok(())
    })?;
    Ok(names)
}

const RESPONSE_MAPPING: &Fields = &[
    ("access_token", "accessToken"),
    ("token_type", "tokenType"),
    ("scope", "scope"),
    ("expires_in", "expiresIn"),
    ("expires_at", "expiresAt"),
    ("created_at", "createdAt"),
    ("success", "success"),
];

fn response_mapping(value: &Value) -> R<ResponseMapping> {
    let mut mapping = ResponseMapping::default();
    visit(value, "struct ResponseMapping", RESPONSE_MAPPING, |i, v| {
        match i {
            0 => mapping.access_token = opt_string(v)?,
            1 => mapping.token_type = opt_string(v)?,
            2 => mapping.scope = opt_string(v)?,
            3 => mapping.expires_in = opt_string(v)?,
            4 => mapping.expires_at = opt_string(v)?,
            5 => mapping.created_at = opt_string(v)?,
            _ => mapping.success = opt(v, success_check)?,
        }
        Ok(())
    })?;
    Ok(mapping)
}

fn success_check(value: &Value) -> R<SuccessCheck> {
    let (mut path, mut equals) = (None, None);
    visit(
        value,
        "struct SuccessCheck",
        &[("path", "path"), ("equals", "equals")],
        |i, v| {
            match i {
                0 => path = Some(string(v)?),
                // A `serde_json::Value` deserializes as a copy of itself.
                _ => equals = Some(v.clone()),
            }
            Ok(())
        },
    )?;
    Ok(SuccessCheck {
        path: required(path, "path")?,
        equals: required(equals, "equals")?,
    })
}

const POLICY: &Fields = &[
    ("refresh_ratio", "refreshRatio"),
    ("skew_ratio", "skewRatio"),
    ("max_skew_secs", "maxSkewSecs"),
    ("default_lifetime_secs", "defaultLifetimeSecs"),
    ("backoff_initial_ms", "backoffInitialMs"),
    ("backoff_max_ms", "backoffMaxMs"),
    ("refresh_jitter_ratio", "refreshJitterRatio"),
    ("refresh_window_secs", "refreshWindowSecs"),
    ("max_requests_per_hour", "maxRequestsPerHour"),
];

/// `#[serde(default)]` on the struct: a field left out keeps `Policy::default()`'s value.
fn policy_of(value: &Value) -> R<Policy> {
    let mut policy = Policy::default();
    visit(value, "struct Policy", POLICY, |i, v| {
        match i {
            0 => policy.refresh_ratio = float(v)?,
            1 => policy.skew_ratio = float(v)?,
            2 => policy.max_skew_secs = uint(v)?,
            3 => policy.default_lifetime_secs = uint(v)?,
            4 => policy.backoff_initial_ms = uint(v)?,
            5 => policy.backoff_max_ms = uint(v)?,
            6 => policy.refresh_jitter_ratio = opt(v, float)?,
            7 => policy.refresh_window_secs = opt(v, uint)?,
            // Its range was checked before (`budget::check_config`).
            _ => policy.max_requests_per_hour = opt(v, uint32)?,
        }
        Ok(())
    })?;
    Ok(policy)
}

#[cfg(target_arch = "wasm32")]
const HTTP_OPTIONS: &Fields = &[
    ("connect_timeout_ms", "connectTimeoutMs"),
    ("timeout_ms", "timeoutMs"),
];

#[cfg(not(target_arch = "wasm32"))]
const HTTP_OPTIONS: &Fields = &[
    ("connect_timeout_ms", "connectTimeoutMs"),
    ("timeout_ms", "timeoutMs"),
    ("proxy", "proxy"),
    ("no_proxy", "noProxy"),
    ("ca_file", "caFile"),
    ("ca_only", "caOnly"),
    ("client_cert_file", "clientCertFile"),
    ("client_key_file", "clientKeyFile"),
];

/// `#[serde(default)]` on the struct, as `Policy`. The proxy, CA and client
/// certificate keys are native only: WebAssembly refuses them as unknown keys
/// (in JS they are the `fetch`'s).
fn http_options(value: &Value) -> R<HttpOptions> {
    let mut http = HttpOptions::default();
    visit(value, "struct HttpOptions", HTTP_OPTIONS, |i, v| {
        match i {
            0 => http.connect_timeout_ms = uint(v)?,
            #[cfg(not(target_arch = "wasm32"))]
            2 => http.proxy = opt(v, |v| string(v).map(Secret::from))?,
            #[cfg(not(target_arch = "wasm32"))]
            3 => http.no_proxy = opt_string(v)?,
            #[cfg(not(target_arch = "wasm32"))]
            4 => http.ca_file = opt_string(v)?,
            #[cfg(not(target_arch = "wasm32"))]
            5 => http.ca_only = boolean(v)?,
            #[cfg(not(target_arch = "wasm32"))]
            6 => http.client_cert_file = opt_string(v)?,
            #[cfg(not(target_arch = "wasm32"))]
            7 => http.client_key_file = opt_string(v)?,
            _ => http.timeout_ms = uint(v)?,
        }
        Ok(())
    })?;
    Ok(http)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::TokenConfig;

    fn outcome(r: Result<TokenConfig, super::Error>) -> String {
        match r {
            // The Debug form leaves out secrets and the maps' values.
            Ok(c) => format!(
                "ok {c:?} {:?} {:?} {:?} {:?}",
                c.client_secret.as_ref().map(|s| s.expose()),
                c.extra_params,
                c.headers,
                c.store
                    .as_ref()
                    .and_then(|s| s.redis_url.as_ref())
                    .map(|u| u.expose()),
            ),
            Err(e) => format!("err {e}"),
        }
    }

    /// Every config of `de`'s corpus reads the same (the same config, or the
    /// same message) here as through the derived impls.
    #[test]
    fn same_as_derive() {
        let corpus = crate::config::de::tests::corpus();
        let mut extra = vec![
            json!({"provider": "custom", "client_id": "a", "credentials": "private_key_jwt",
                "privateKey": "k", "keyId": "1", "certificateFile": "c", "issuer": "https://i",
                "assertion": {"algorithm": "PS256", "audience": "issuer", "lifetimeSecs": 90}}),
            json!({"provider": "custom", "client_id": "a", "private_key_file": "f",
                "assertion": {"algorithm": "XX256", "lifetime_secs": -1, "x": 1}}),
            json!({"provider": "custom", "client_id": "a", "assertion": {"audience": 1}}),
            json!({"provider": "custom", "client_id": "a", "assertion": null, "private_key": null}),
            json!({"provider": "custom", "client_id": "a", "client_secret": null}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": {"sentinel": {"nodes": ["a:1"], "service": "m"}, "clusterNodes": ["b:2"]}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": {"sentinel": {"nodes": "a:1"}}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": {"sentinel": {"service": "m"}}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": {"sentinel": {"nodes": [1], "x": 1}}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": {"cluster_nodes": ["a", "b"], "clusterNodes": []}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "response": {"success": {"path": "s", "equals": null, "x": 1}}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "response": {"success": {"equals": [1, {"a": 1.5}]}}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "response": {"success": {"path": "s", "equals": [1, {"a": 1.5}]}}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "encoding": {"json": null}, "credentials": {"basic": 1}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b", "": 1}),
            // Each unit enum in each of its forms: a name, an alias, an object
            // of one key, an unknown name, a wrong type.
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "credentials": "client_secret_post", "encoding": "multipart",
                "basic_encoding": {"raw": null}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "credentials": {"client_secret_basic": null}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "credentials": {"body": null, "basic": null}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "credentials": {}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "credentials": "Body"}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "credentials": ["body"]}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "basic_encoding": null}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "basicEncoding": {"nope": null}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "encoding": true}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "encoding": {"form": "x"}}),
            json!({"provider": "custom", "client_id": "a", "credentials": "private_key_jwt",
                "private_key": "k", "assertion": {"algorithm": {"ES256": null}}}),
            json!({"provider": "custom", "client_id": "a", "credentials": "private_key_jwt",
                "private_key": "k", "assertion": {"algorithm": "es256"}}),
            json!({"provider": "custom", "client_id": "a", "credentials": "private_key_jwt",
                "private_key": "k", "assertion": {"algorithm": 256}}),
            json!({"provider": "toast", "client_id": "a", "client_secret": "b",
                "policy": {"refreshWindowSecs": 90}}),
            json!({"provider": "uber", "client_id": "a", "client_secret": "b",
                "policy": {"refresh_window_secs": -1}}),
            // An unknown key in every struct: the message lists the struct's
            // fields, so a field the derived impl reads and this one does not
            // fails here.
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": {"nope": 1}}),
            json!({"provider": "custom", "client_id": "a", "client_secret": "b",
                "store": {"sentinel": {"nope": 1}}}),
            json!({"provider": "nope", "client_id": "a", "client_secret": "b"}),
        ];
        extra.extend(corpus);
        let (mut ok, mut err) = (0, 0);
        for value in &extra {
            let ours = outcome(super::from_value(value));
            let derived = outcome(crate::config::de::from_value(value));
            assert_eq!(ours, derived, "{value}");
            if ours.starts_with("ok") {
                ok += 1;
            } else {
                err += 1;
            }
        }
        assert!(ok > 500 && err > 2_000, "{ok} {err}");
    }
}
