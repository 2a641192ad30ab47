//! One fuzz input → one call of `tokenwell::response::parse`, and the
//! invariants every answer must keep. Shared by the fuzz target
//! (fuzz/fuzz_targets/parse_response.rs) and the stable corpus replay
//! (tests/fuzz_corpus.rs).
//!
//! Layout: byte 0 picks the profile and the send time, bytes 1–2 are the
//! status (big-endian), then header lines `name: value` up to an empty line,
//! then the body.

use tokenwell::expiry::{
    expires_unix_ms, MAX_EXPIRES_UNIX_MS, MAX_LIFETIME_MS, MAX_RETRY_AFTER_MS,
};
use tokenwell::profile::Profile;
use tokenwell::response::{self, HttpResponse};
use tokenwell::TokenConfig;

/// Send times: 2026-01-01, the epoch, before it, the ends of the range.
const SENT: [i64; 8] = [
    1_767_225_600_000,
    0,
    -1,
    i64::MAX,
    i64::MIN,
    1_767_225_600_000,
    253_402_300_799_999,
    -62_135_596_800_000,
];

fn profile(selector: u8) -> Profile {
    let mut cfg = serde_json::json!({
        "provider": "custom", "token_url": "https://auth.example.com/token",
        "client_id": "id", "client_secret": "fuzz-secret",
    });
    if selector & 1 != 0 {
        cfg["response"] = serde_json::json!({
            "access_token": "data.token", "expires_in": "data.ttl", "expires_at": "data.exp",
            "created_at": "data.iat", "success": {"path": "status", "equals": "SUCCESS"}
        });
    }
    if selector & 2 != 0 {
        cfg["policy"] = serde_json::json!({"default_lifetime_secs": u64::MAX});
    }
    let cfg = TokenConfig::from_value(cfg).expect("a valid config");
    Profile::resolve(&cfg).expect("a valid profile").0
}

/// Splits the input into (selector, response).
pub fn decode(data: &[u8]) -> (u8, HttpResponse) {
    let selector = data.first().copied().unwrap_or(0);
    let status = match data.get(1..3) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 200,
    };
    let rest = data.get(3..).unwrap_or_default();
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&[][..], rest),
    };
    let headers = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    let resp = HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    };
    (selector, resp)
}

/// Parses one input and checks what every answer must satisfy.
pub fn check(data: &[u8]) {
    let (selector, resp) = decode(data);
    let sent = SENT[usize::from(selector >> 2) % SENT.len()];
    match response::parse(&profile(selector), &resp, sent) {
        Ok(issued) => {
            assert!(
                (200..300).contains(&resp.status),
                "success on {}",
                resp.status
            );
            assert!(issued.lifetime_ms > 0 && issued.lifetime_ms <= MAX_LIFETIME_MS);
            let token = issued.access_token.expose();
            assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
            let at = expires_unix_ms(sent, issued.lifetime_ms);
            assert!((0..=MAX_EXPIRES_UNIX_MS).contains(&at));
        }
        Err(e) => {
            assert!(e.retry_after_ms().is_none_or(|ms| ms <= MAX_RETRY_AFTER_MS));
            assert!(!format!("{e} {e:?}").contains("fuzz-secret"));
        }
    }
}
