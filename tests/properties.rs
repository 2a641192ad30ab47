//! Property tests of the sans-IO core: for *any* input, the response parser, the
//! expiry policy and config parsing neither panic nor overflow, deadlines stay
//! ordered (`refresh_at <= usable_until <= expires_at`), lifetimes and
//! `Retry-After` stay within their documented caps, and every config that is
//! accepted builds a request every transport can send.
//!
//! The case count is pinned ([`CASES`]), so CI runs the same amount of work on
//! every machine (`PROPTEST_CASES` does not change it); a failure is shrunk and
//! printed with its seed.

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use tokenwell::config::Policy;
use tokenwell::expiry::{
    expires_unix_ms, Backoff, Deadlines, MAX_EXPIRES_UNIX_MS, MAX_LIFETIME_MS, MAX_RETRY_AFTER_MS,
};
use tokenwell::profile::Profile;
use tokenwell::request::{self, MULTIPART_BOUNDARY};
use tokenwell::response::{self, HttpResponse, MAX_RESPONSE_BYTES};
use tokenwell::{ErrorKind, TokenConfig};

/// Cases per property: enough to cover the generators' corners, a few seconds in
/// a debug build for the whole file.
const CASES: u32 = 1000;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(CASES)
}

/// The secret of every generated config: no error may quote it.
const CANARY: &str = "Zq81-canary-secret";

// ---------------------------------------------------------------- generators

/// Numbers as servers write them, from the ordinary to the absurd.
fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..100_000).prop_map(Value::from),
        (1_600_000_000u64..2_200_000_000).prop_map(Value::from), // epoch seconds
        (1_600_000_000_000u64..2_200_000_000_000).prop_map(Value::from), // epoch ms
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            1e300,
            -1e300,
            1e11,
            1e12,
            99_999_999_999.5,
            -0.0,
            5e-324,
            1.8e19
        ])
        .prop_map(Value::from),
    ]
    .boxed()
}

/// Strings a time field might hold: numbers, ISO-8601 (valid or not), junk.
fn time_text() -> BoxedStrategy<String> {
    prop_oneof![
        number().prop_map(|n| n.to_string()),
        (0u32..12_000, 0u32..14, 0u32..33, 0u32..25, 0u32..61)
            .prop_map(|(y, mo, d, h, mi)| { format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00Z") }),
        (1970u32..9_999, 1u32..13, 1u32..29, -14i32..15)
            .prop_map(|(y, mo, d, off)| { format!("{y:04}-{mo:02}-{d:02}T12:00:00{off:+03}:00") }),
        "[ -~]{0,24}",
        "\\PC{0,12}",
    ]
    .boxed()
}

/// Any value a time field could hold, including the wrong types.
fn time_value() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => number(),
        3 => time_text().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(json!([1, 2])),
        1 => Just(json!({"exp": 1})),
    ]
    .boxed()
}

/// Any JSON value, nested a little.
fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        time_text().prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{0,10}", inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Access tokens: opaque, JWT-shaped with any `exp`, or invalid.
fn access_token() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => "[A-Za-z0-9._~+/=-]{1,40}".prop_map(Value::from),
        3 => time_value().prop_map(|exp| {
            let claims = json!({"sub": "x", "exp": exp}).to_string();
            Value::from(format!("{}.{}.sig", b64url(br#"{"alg":"none"}"#), b64url(claims.as_bytes())))
        }),
        1 => "\\PC{0,8}".prop_map(Value::from),
        1 => json_value(),
    ].boxed()
}

/// A token response body: an object with any mix of the fields the parser
/// reads (at their default paths or under `data.`), or anything at all.
fn body() -> BoxedStrategy<Vec<u8>> {
    // Plausible values most of the time, so that successes are common too.
    let expires_in = prop_oneof![
        6 => (1u64..100_000).prop_map(Value::from),
        1 => (1u64..100_000).prop_map(|n| Value::from(n.to_string())),
        3 => time_value(),
    ];
    let fields = (
        access_token(),
        prop::option::weighted(0.7, expires_in),
        prop::option::weighted(0.3, time_value()),
        prop::option::weighted(0.3, time_value()),
        prop::option::weighted(
            0.3,
            prop_oneof!["[A-Za-z-]{0,8}".prop_map(Value::from), json_value()],
        ),
        prop::option::weighted(0.3, json_value()),
        prop::option::weighted(
            0.15,
            prop_oneof![
                Just(json!({"error": "invalid_client"})),
                Just(json!({"success": false, "status": 503})),
                Just(json!({"success": false})),
                Just(json!({"error": "slow_down", "status": 429})),
            ],
        ),
    )
        .prop_map(
            |(token, expires_in, expires_at, created_at, token_type, scope, failure)| {
                let mut m = Map::new();
                m.insert("access_token".into(), token);
                for (k, v) in [
                    ("expires_in", expires_in),
                    ("expires_at", expires_at),
                    ("created_at", created_at),
                    ("token_type", token_type),
                    ("scope", scope),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), v);
                    }
                }
                if let Some(Value::Object(f)) = failure {
                    m.extend(f);
                }
                serde_json::to_vec(&Value::Object(m)).unwrap()
            },
        );
    prop_oneof![
        6 => fields,
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(vec![b' '; MAX_RESPONSE_BYTES + 1]),
    ]
    .boxed()
}

/// Headers a token endpoint might send: `Date` and `Retry-After` in every form.
fn headers() -> BoxedStrategy<Vec<(String, String)>> {
    let http_date = (0u64..253_402_300_799).prop_map(|secs| {
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    });
    let value = prop_oneof![
        http_date,
        any::<u64>().prop_map(|n| n.to_string()),
        "[0-9]{1,40}",
        "[ -~]{0,30}",
    ];
    let name = prop::sample::select(vec![
        "date",
        "retry-after",
        "Retry-After",
        "content-type",
        "x-other",
    ]);
    prop::collection::vec((name.prop_map(str::to_owned), value), 0..4).boxed()
}

/// A custom profile with a few mappings, including a nested one.
fn profile(nested: bool, default_lifetime_secs: u64) -> Profile {
    let mut cfg = json!({
        "provider": "custom", "token_url": "https://auth.example.com/token",
        "client_id": "id", "client_secret": CANARY,
        "policy": {"default_lifetime_secs": default_lifetime_secs},
    });
    if nested {
        cfg["response"] = json!({"access_token": "data.access_token", "expires_in": "data.expires_in",
                                 "success": {"path": "ok", "equals": true}});
    }
    Profile::resolve(&TokenConfig::from_value(cfg).unwrap())
        .unwrap()
        .0
}

/// Any policy, sensible or not (the pure functions take them unvalidated).
fn policy() -> BoxedStrategy<Policy> {
    let ratio = prop_oneof![0.0..=1.0f64, any::<f64>()];
    let ms = prop_oneof![0u64..200_000, any::<u64>()];
    (ratio.clone(), ratio, ms.clone(), ms.clone(), ms.clone(), ms)
        .prop_map(
            |(refresh_ratio, skew_ratio, max_skew_secs, default_lifetime_secs, initial, max)| {
                Policy {
                    refresh_ratio,
                    skew_ratio,
                    max_skew_secs,
                    default_lifetime_secs,
                    backoff_initial_ms: initial,
                    backoff_max_ms: max,
                    ..Policy::default()
                }
            },
        )
        .boxed()
}

fn instant() -> BoxedStrategy<u64> {
    prop_oneof![
        0u64..10_000_000_000,
        any::<u64>(),
        Just(u64::MAX),
        (u64::MAX - 1_000_000)..=u64::MAX
    ]
    .boxed()
}

fn ordered(d: &Deadlines) -> bool {
    d.refresh_at <= d.usable_until && d.usable_until <= d.expires_at
}

// ---------------------------------------------------------------- the parser

proptest! {
    #![proptest_config(config())]

    /// Any status, headers and body: a result, never a panic; a token's
    /// lifetime is positive and at most ten years; `Retry-After` at most an hour.
    #[test]
    fn parse_never_panics_and_stays_within_caps(
        status in prop_oneof![
            5 => Just(200u16), 1 => Just(429), 1 => Just(503), 1 => 100u16..600, 1 => any::<u16>(),
        ],
        headers in headers(),
        body in body(),
        sent in prop_oneof![Just(1_767_225_600_000i64), any::<i64>()],
        nested in any::<bool>(),
        default_lifetime in prop_oneof![Just(300u64), any::<u64>()],
    ) {
        // The nested profile reads `data.…` and checks `ok == true`.
        let body = match serde_json::from_slice::<Value>(&body) {
            Ok(v @ Value::Object(_)) if nested => serde_json::to_vec(&json!({"data": v, "ok": true})).unwrap(),
            _ => body,
        };
        let resp = HttpResponse { status, headers, body };
        let profile = profile(nested, default_lifetime);
        match response::parse(&profile, &resp, sent) {
            Ok(issued) => {
                prop_assert!((200..300).contains(&status));
                prop_assert!(issued.lifetime_ms > 0 && issued.lifetime_ms <= MAX_LIFETIME_MS);
                let token = issued.access_token.expose();
                prop_assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
                let expires = expires_unix_ms(sent, issued.lifetime_ms);
                prop_assert!((0..=MAX_EXPIRES_UNIX_MS).contains(&expires));
            }
            Err(e) => {
                prop_assert!(e.retry_after_ms().is_none_or(|ms| ms <= MAX_RETRY_AFTER_MS));
                let text = format!("{e} {e:?}");
                prop_assert!(!text.contains(CANARY));
            }
        }
    }

    /// `Retry-After` on 429 and 503, in any form: read, and capped.
    #[test]
    fn retry_after_is_read_on_429_and_503_and_capped(
        status in prop::sample::select(vec![429u16, 503]),
        value in prop_oneof![any::<u64>().prop_map(|n| n.to_string()), "[0-9]{1,30}"],
    ) {
        let resp = HttpResponse {
            status,
            headers: vec![("retry-after".into(), value.clone())],
            body: Vec::new(),
        };
        let e = response::parse(&profile(false, 300), &resp, 0).unwrap_err();
        let secs: u128 = value.parse().unwrap();
        let want = (secs.saturating_mul(1000)).min(u128::from(MAX_RETRY_AFTER_MS)) as u64;
        prop_assert_eq!(e.retry_after_ms(), Some(want));
    }
}

// ---------------------------------------------------------------- the policy

proptest! {
    #![proptest_config(config())]

    /// Any policy, send time and lifetime: ordered deadlines, the lifetime
    /// capped, nothing before the request was sent unless the clock saturated.
    #[test]
    fn deadlines_are_ordered_for_any_input(
        policy in policy(),
        sent_at in instant(),
        lifetime in prop_oneof![0u64..1_000_000_000, any::<u64>()],
        now in instant(),
        age in instant(),
    ) {
        let d = Deadlines::new(&policy, sent_at, lifetime);
        prop_assert!(ordered(&d), "{d:?}");
        prop_assert_eq!(d.expires_at, sent_at.saturating_add(lifetime.min(MAX_LIFETIME_MS)));
        if sent_at.checked_add(lifetime.min(MAX_LIFETIME_MS)).is_some() {
            prop_assert!(d.refresh_at >= sent_at.min(d.usable_until));
            prop_assert!(d.usable_until >= sent_at);
        }
        let aged = Deadlines::aged(&policy, now, age, lifetime);
        prop_assert!(ordered(&aged), "{aged:?}");
        // Older is never later.
        let older = Deadlines::aged(&policy, now, age.saturating_add(1), lifetime);
        prop_assert!(older.expires_at <= aged.expires_at && older.refresh_at <= aged.refresh_at);
    }

    /// With the policies a config can hold, the schedule is the documented one:
    /// skew = min(max_skew, skew_ratio × lifetime), refresh at refresh_ratio.
    #[test]
    fn valid_policies_give_the_documented_schedule(
        refresh_ratio in 0.0..=1.0f64,
        skew_ratio in 0.0..=1.0f64,
        max_skew_secs in 0u64..100_000,
        sent_at in 0u64..1_000_000_000_000,
        lifetime in 1u64..MAX_LIFETIME_MS,
    ) {
        let p = Policy { refresh_ratio, skew_ratio, max_skew_secs, ..Policy::default() };
        let d = Deadlines::new(&p, sent_at, lifetime);
        let skew = ((lifetime as f64 * skew_ratio) as u64).min(max_skew_secs * 1000).min(lifetime);
        prop_assert_eq!(d.usable_until, sent_at + lifetime - skew);
        let refresh = sent_at + ((lifetime as f64 * refresh_ratio) as u64).min(lifetime);
        prop_assert_eq!(d.refresh_at, refresh.min(d.usable_until));
    }

    /// Any sequence of failures, at any times, with any `Retry-After` and any
    /// "random" number: the delay is within [min(Retry-After, cap),
    /// max(backoff_max, cap)], and the backoff ends exactly `delay` later
    /// (saturating at the end of the clock).
    #[test]
    fn backoff_never_overflows_and_honours_capped_retry_after(
        policy in policy(),
        failures in prop::collection::vec(
            (instant(), prop::option::of(prop_oneof![0u64..100_000, any::<u64>()]),
             prop_oneof![0.0..1.0f64, any::<f64>()]),
            1..12,
        ),
    ) {
        let mut b = Backoff::default();
        for (now, retry_after, random) in failures {
            let delay = b.fail(&policy, now, retry_after, random);
            let floor = retry_after.unwrap_or(0).min(MAX_RETRY_AFTER_MS);
            prop_assert!(delay >= floor);
            prop_assert!(delay <= policy.backoff_max_ms.max(floor));
            prop_assert!(delay <= policy.backoff_max_ms.max(MAX_RETRY_AFTER_MS));
            prop_assert_eq!(b.until(), now.saturating_add(delay));
            prop_assert!(b.allows(b.until()));
            if delay > 0 && b.until() < u64::MAX {
                prop_assert!(!b.allows(b.until() - 1));
            }
        }
        b.reset();
        prop_assert!(b.allows(0));
    }

    /// Expiries reported to every language: in [0, year 9999], for any wall
    /// clock and lifetime.
    #[test]
    fn reported_expiries_are_always_representable(sent in any::<i64>(), lifetime in any::<u64>()) {
        let at = expires_unix_ms(sent, lifetime);
        prop_assert!((0..=MAX_EXPIRES_UNIX_MS).contains(&at));
    }
}

// ---------------------------------------------------------------- the config

/// A valid config with up to four keys replaced by arbitrary values (known
/// keys, nested keys, unknown keys, camelCase spellings), or any JSON at all.
fn config_value() -> BoxedStrategy<Value> {
    let keys = prop::sample::select(vec![
        "provider",
        "environment",
        "region",
        "base_url",
        "token_url",
        "client_id",
        "audience",
        "scope",
        "ttl",
        "grant_type",
        "encoding",
        "credentials",
        "basic_encoding",
        "field_names",
        "extra_params",
        "headers",
        "response",
        "policy",
        "http",
        "clientId",
        "baseUrl",
        "bogus",
    ]);
    let special = prop_oneof![
        json_value(),
        prop::sample::select(vec![
            json!("custom"),
            json!("deliveroo"),
            json!("bringg"),
            json!("passport"),
            json!("deliverect"),
            json!("multipart"),
            json!("form"),
            json!("json"),
            json!("basic"),
            json!("both"),
            json!("raw"),
            json!("http://127.0.0.1:1/t"),
            json!("https://a.example/t\r\n"),
            json!("https://[::1]/x"),
            json!({"x-key": "a\r\nb"}),
            json!({"bad name": "v"}),
            json!({"host": "h"}),
            json!({"x-ok": "v"}),
            json!({"client_id": "id\n"}),
            json!({"client_id": "clientId", "ttl": ""}),
            json!({"note": "a\r\n--tokenwell-8f3a2c1e9b7d4f60"}),
            json!({"n": 1, "b": true}),
            json!({"refresh_ratio": 2.0}),
            json!({"backoff_initial_ms": 0}),
            json!({"default_lifetime_secs": u64::MAX}),
            json!({"access_token": "a.b", "success": {"path": "ok", "equals": 1}}),
            json!("id:with:colons"),
            json!("line\r\nbreak"),
            json!(""),
            json!(u64::MAX),
            json!(-1),
        ]),
    ];
    let mutated = prop::collection::vec((keys, special), 0..5).prop_map(|edits| {
        let mut cfg = json!({
            "provider": "custom", "token_url": "https://auth.example.com/token",
            "client_id": "id", "client_secret": CANARY,
        });
        for (k, v) in edits {
            cfg[k] = v;
        }
        cfg
    });
    prop_oneof![6 => mutated, 1 => json_value()].boxed()
}

/// What every transport (reqwest's `http` types, `fetch`) accepts as a header.
fn sendable_header(name: &str, value: &str) -> bool {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    !name.is_empty()
        && name.bytes().all(tchar)
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
}

proptest! {
    #![proptest_config(config())]

    /// Any JSON as a config: accepted, or refused with a `config` error that
    /// never quotes the secret. Accepted, it builds a request whose every header
    /// can be sent, and a multipart body with exactly one part per field.
    #[test]
    fn config_parsing_never_panics_and_accepted_configs_can_be_sent(value in config_value()) {
        let resolved = TokenConfig::from_value(value).and_then(|c| Profile::resolve(&c));
        match resolved {
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Config);
                let text = format!("{e} {e:?}");
                prop_assert!(!text.contains(CANARY), "{}", text);
            }
            Ok((profile, creds)) => {
                let req = request::build(&profile, &creds);
                for (name, value) in &req.headers {
                    prop_assert!(sendable_header(name, value), "{name:?}");
                }
                let ct = req.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.as_str());
                if ct.is_some_and(|ct| ct.starts_with("multipart/")) {
                    let body = String::from_utf8(req.body.clone()).unwrap();
                    let delimiter = format!("--{MULTIPART_BOUNDARY}\r\n");
                    let fields = usize::from(profile.grant_type.is_some())
                        + profile.params.len()
                        + if profile.credentials == tokenwell::config::CredentialsIn::Basic { 0 } else { 2 };
                    prop_assert_eq!(body.matches(&delimiter).count(), fields);
                }
            }
        }
    }
}
