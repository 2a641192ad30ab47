//! The record a shared store holds for one cache key: a clear header a store
//! can compare without opening it, and the token sealed.
//!
//! ```text
//! <expires_unix_ms>.<fingerprint>.<base64url(version || nonce || AES-256-GCM(payload))>
//! ```
//!
//! - `expires_unix_ms`: the server's expiry (a store keeps the later of two);
//! - `fingerprint`: 32 hex digits of SHA-256 over the key and the token, so a
//!   store can drop "this token" after a 401 without holding the token;
//! - the seal: AES-256-GCM under HKDF-SHA256(ikm = the client secret, salt =
//!   [`SEAL_SALT`], info = the cache key), a fresh random 96-bit nonce per
//!   write, the header and key as associated data. Only holders of the same
//!   credentials can open it; a record of another version, or one that fails to
//!   open, is a miss (rolling deploys mix versions).

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::platform::{Host, Platform};
use crate::secret::Secret;
use crate::store::{CacheKey, StoredToken};

/// The record format's version (the first sealed byte).
pub const VERSION: u8 = 1;
/// HKDF salt of the sealing key.
pub const SEAL_SALT: &[u8] = b"tokenwell/seal/v1";
const NONCE_BYTES: usize = 12;
/// Longest record read from a store, the token endpoint's response limit:
/// a record holds at most a 16 KiB token, sealed and in base64. A longer one
/// is a store error (a miss), and the Redis store's GET refuses it in the
/// server, so it never crosses the network whole.
pub const MAX_RECORD_BYTES: usize = crate::response::MAX_RESPONSE_BYTES;

/// A record's clear header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The server's expiry, Unix ms.
    pub expires_unix_ms: i64,
    /// The token's fingerprint.
    pub fingerprint: &'a str,
}

/// Reads the clear header of a record (`None` if it is not one).
pub fn header(record: &str) -> Option<Header<'_>> {
    let mut parts = record.splitn(3, '.');
    let expires_unix_ms = parts.next()?.parse().ok()?;
    let fingerprint = parts.next()?;
    parts.next()?;
    Some(Header {
        expires_unix_ms,
        fingerprint,
    })
}

/// The fingerprint of `token` under `key`: reveals nothing of either.
pub fn fingerprint(key: &CacheKey, token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tokenwell/fingerprint/v1\0");
    h.update(key.as_str().as_bytes());
    h.update([0]);
    h.update(token.as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sealed fields. Read back by [`Payload::read`], not a derived
/// `Deserialize` (its visitor is 0.5 KB gzipped of WebAssembly).
#[derive(Serialize)]
#[cfg_attr(test, derive(serde::Deserialize, Debug, PartialEq))]
struct Payload {
    t: String,
    y: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    i: i64,
    l: u64,
}

impl Payload {
    /// The payload in `v`, or `None` where the derived `Deserialize` (read
    /// through `config::de`) would fail: `t` and `y` strings, `s` a string or
    /// null or absent, `i` an `i64` and `l` a `u64` (integers, not floats);
    /// other keys ignored. `tests::payload_reads_as_derive` holds the two together.
    fn read(v: &Value) -> Option<Payload> {
        let text = |k: &str| v.get(k)?.as_str().map(str::to_owned);
        Some(Payload {
            t: text("t")?,
            y: text("y")?,
            s: match v.get("s") {
                None | Some(Value::Null) => None,
                Some(s) => Some(s.as_str()?.to_owned()),
            },
            i: v.get("i")?.as_i64()?,
            l: v.get("l")?.as_u64()?,
        })
    }
}

fn aad(key: &CacheKey, expires_unix_ms: i64, fingerprint: &str) -> Vec<u8> {
    format!("{}.{expires_unix_ms}.{fingerprint}", key.as_str()).into_bytes()
}

/// Seals `token` for `key` with a fresh random nonce.
pub async fn seal(secret: &Secret, key: &CacheKey, token: &StoredToken) -> Result<String> {
    let mut nonce = [0u8; NONCE_BYTES];
    nonce[..8].copy_from_slice(&Host::random_u64().to_le_bytes());
    nonce[8..].copy_from_slice(&Host::random_u64().to_le_bytes()[..4]);
    seal_with_nonce(secret, key, token, nonce).await
}

/// [`seal`] with a given nonce (the known-answer vector).
pub async fn seal_with_nonce(
    secret: &Secret,
    key: &CacheKey,
    token: &StoredToken,
    nonce: [u8; NONCE_BYTES],
) -> Result<String> {
    let expires = token.expires_unix_ms();
    let fp = fingerprint(key, token.access_token.expose());
    let payload = Payload {
        t: token.access_token.expose().to_owned(),
        y: token.token_type.clone(),
        s: token.scope.clone(),
        i: token.issued_unix_ms,
        l: token.lifetime_ms,
    };
    let plaintext = serde_json::to_vec(&payload)
        .map_err(|_| Error::new(ErrorKind::Internal, "cannot encode a stored token"))?;
    let sealed = Host::seal(
        secret.expose().as_bytes().to_vec(),
        key.as_str().as_bytes().to_vec(),
        nonce,
        aad(key, expires, &fp),
        plaintext,
    )
    .await?;
    let mut blob = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
    blob.push(VERSION);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(format!(
        "{expires}.{fp}.{}",
        crate::b64::encode(&blob, true, false)
    ))
}

/// Opens a record; `None` for anything that is not a record of this version
/// sealed for these credentials and this key.
pub async fn open(secret: &Secret, key: &CacheKey, record: &str) -> Option<StoredToken> {
    let head = header(record)?;
    let blob = crate::b64::decode_url_safe(record.rsplit('.').next()?)?;
    if blob.first() != Some(&VERSION) || blob.len() < 1 + NONCE_BYTES + 16 {
        return None;
    }
    let nonce: [u8; NONCE_BYTES] = blob[1..1 + NONCE_BYTES].try_into().ok()?;
    let plaintext = Host::open(
        secret.expose().as_bytes().to_vec(),
        key.as_str().as_bytes().to_vec(),
        nonce,
        aad(key, head.expires_unix_ms, head.fingerprint),
        blob[1 + NONCE_BYTES..].to_vec(),
    )
    .await
    .ok()?;
    // Through a `Value`: `serde_json::from_slice::<Payload>` would link serde's
    // float formatting for its error messages (8 KB gzipped of WebAssembly).
    let p = Payload::read(&serde_json::from_slice(&plaintext).ok()?)?;
    let token = StoredToken {
        access_token: Secret::from(p.t),
        token_type: p.y,
        scope: p.s,
        issued_unix_ms: p.i,
        lifetime_ms: p.l,
    };
    // The header must describe what was sealed (it is authenticated, but a
    // writer could still have lied in both).
    (token.expires_unix_ms() == head.expires_unix_ms
        && fingerprint(key, token.access_token.expose()) == head.fingerprint)
        .then_some(token)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::Payload;

    /// Every payload shape, good and bad, reads as the derived `Deserialize`
    /// reads it through `config::de` (the same payload, or a failure).
    #[test]
    fn payload_reads_as_derive() {
        let good = json!({"t": "tok", "y": "Bearer", "s": "a b", "i": 1_700_000_000_000_i64, "l": 3_600_000});
        let values: [Value; 6] = [
            json!(null),
            json!("x"),
            json!(1),
            json!(-1),
            json!(1.5),
            json!(u64::MAX),
        ];
        let mut corpus = vec![
            good.clone(),
            json!([]),
            json!(["tok", "Bearer", null, 1, 2]),
            json!(null),
            json!({}),
        ];
        for key in ["t", "y", "s", "i", "l", "extra"] {
            let mut without = good.clone();
            without.as_object_mut().unwrap().remove(key);
            corpus.push(without);
            for value in &values {
                let mut with = good.clone();
                with[key] = value.clone();
                corpus.push(with);
            }
        }
        for key in ["i", "l"] {
            for n in [
                json!(i64::MIN),
                json!(i64::MAX),
                json!(0),
                json!(1e3),
                json!(-0.0),
            ] {
                let mut with = good.clone();
                with[key] = n;
                corpus.push(with);
            }
        }
        let mut read_some = 0;
        for v in &corpus {
            let derived = crate::config::de::from_value::<Payload>(v).ok();
            assert_eq!(Payload::read(v), derived, "{v}");
            read_some += usize::from(derived.is_some());
        }
        assert!(read_some > 5, "the corpus has readable payloads");
    }
}
