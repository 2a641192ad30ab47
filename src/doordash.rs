//! DoorDash Drive: a platform without a token endpoint. The client signs its
//! own JWT (developer.doordash.com, Drive reference, "JWTs"): HS256 keyed by
//! the base64url-decoded signing secret, the header
//! `{"typ":"JWT","alg":"HS256","dd-ver":"DD-JWT-V1","kid":…}`, the claims
//! `aud: "doordash"`, `iss` (the developer id), `kid` (the key id), `iat` and
//! `exp` at most 30 minutes later.
//!
//! The client caches and refreshes a minted JWT like a fetched token
//! (single-flight, refresh ahead, `invalidate`, events, metrics, status); only
//! the step that would send a request mints instead ([`Minter::mint`]). A
//! minted JWT costs no request: it is never written to a shared store (every
//! process mints its own, see [`crate::profile::Profile::mints_locally`]) and
//! never counts against a request budget.
//!
//! `iat` is the machine's wall clock (DoorDash checks it against real time);
//! the cache schedules the JWT on the client's injected clock, one second short
//! of its lifetime (`iat` is the wall clock's whole second, up to a second in
//! the past), so a test on a manual clock sees the same schedule on every run.

use std::fmt;

use crate::config::TokenConfig;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The `provider` value.
pub const PROVIDER: &str = "doordash";

/// The longest lifetime DoorDash accepts (`exp - iat`), and the default.
pub const MAX_LIFETIME_SECS: u64 = 1800;

/// The shortest lifetime accepted: a JWT is scheduled one second short of its
/// lifetime, and refreshed ahead of that.
pub const MIN_LIFETIME_SECS: u64 = 60;

/// What signs a DoorDash JWT: the developer id, key id, the decoded signing
/// secret and the lifetime. `Debug` shows none of them.
pub struct Minter {
    developer_id: String,
    key_id: String,
    key: Box<[u8]>,
    lifetime_secs: u64,
}

impl fmt::Debug for Minter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Minter([redacted])")
    }
}

impl Minter {
    /// The minter of a `doordash` config, with its signing secret as given
    /// (what the cache key derives from, and what errors are scrubbed of);
    /// `None` for any other provider, which must not set the DoorDash keys.
    /// `provider`: a credential provider was given (refused: the signing
    /// secret is configured).
    pub(crate) fn resolve(cfg: &TokenConfig, provider: bool) -> Result<Option<(Minter, Secret)>> {
        // One message per kind of mistake (each naming its keys): every
        // format string is WebAssembly the npm package carries.
        if cfg.provider.name() != PROVIDER {
            return match cfg.developer_id.is_some() || cfg.signing_secret.is_some() {
                true => Err(Error::config(
                    "developer_id and signing_secret are only used with provider \"doordash\"",
                )),
                false => Ok(None),
            };
        }
        if !cfg.client_id.is_empty()
            || cfg.client_secret.is_some()
            || cfg.client_secret_file.is_some()
            || cfg.private_key.is_some()
            || cfg.private_key_file.is_some()
            || cfg.certificate_file.is_some()
            || cfg.credentials.is_some()
            || cfg.issuer.is_some()
            || provider
        {
            return Err(Error::config(
                "provider doordash signs its own JWT: client_id, client_secret(_file), \
                 private_key(_file), certificate_file, credentials, issuer and a credential \
                 provider are not used",
            ));
        }
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        let (Some(developer_id), Some(key_id), Some(secret)) = (
            given(&cfg.developer_id),
            given(&cfg.key_id),
            cfg.signing_secret.clone(),
        ) else {
            return Err(Error::config(
                "provider doordash needs developer_id, key_id and signing_secret",
            ));
        };
        // DoorDash shows the secret unpadded; a padded copy is accepted too
        // (bytewise: a char pattern brings a searcher into the WebAssembly).
        let text = secret.expose().as_bytes();
        let end = text.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
        let key = std::str::from_utf8(&text[..end])
            .ok()
            .and_then(crate::b64::decode_url_safe)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::config("signing_secret is not base64url"))?;
        let options = cfg.assertion.clone().unwrap_or_default();
        let lifetime_secs = options.lifetime_secs.unwrap_or(MAX_LIFETIME_SECS);
        if options.algorithm.is_some()
            || options.audience.is_some()
            || !(MIN_LIFETIME_SECS..=MAX_LIFETIME_SECS).contains(&lifetime_secs)
        {
            return Err(Error::config(
                "provider doordash takes assertion.lifetime_secs only, 60 to 1800 (30 minutes)",
            ));
        }
        let minter = Minter {
            developer_id,
            key_id,
            key: key.into(),
            lifetime_secs,
        };
        Ok(Some((minter, secret)))
    }

    /// The developer id (the client's identity in the cache key and status).
    pub fn developer_id(&self) -> &str {
        &self.developer_id
    }

    /// How long the cache keeps a JWT minted now, in ms: its lifetime less
    /// the second `iat` may lie in the past.
    pub fn cache_lifetime_ms(&self) -> u64 {
        (self.lifetime_secs - 1) * 1000
    }

    /// The JWT issued at `now_secs` (Unix seconds).
    pub fn mint(&self, now_secs: i64) -> Secret {
        use crate::assertion::push_member;
        let mut header = vec![b'{'];
        push_member(&mut header, "typ", "JWT");
        push_member(&mut header, "alg", "HS256");
        push_member(&mut header, "dd-ver", "DD-JWT-V1");
        push_member(&mut header, "kid", &self.key_id);
        header.push(b'}');
        let mut claims = vec![b'{'];
        push_member(&mut claims, "aud", "doordash");
        push_member(&mut claims, "iss", &self.developer_id);
        push_member(&mut claims, "kid", &self.key_id);
        let exp = now_secs.saturating_add(self.lifetime_secs as i64);
        claims.extend_from_slice(format!(",\"exp\":{exp},\"iat\":{now_secs}}}").as_bytes());
        let input = format!(
            "{}.{}",
            crate::b64::encode(&header, true, false),
            crate::b64::encode(&claims, true, false)
        );
        let signature = crate::assertion::hmac_sha256(&self.key, input.as_bytes());
        Secret::new(format!(
            "{input}.{}",
            crate::b64::encode(&signature, true, false)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: serde_json::Value) -> TokenConfig {
        let mut value = serde_json::json!({
            "provider": "doordash",
            "developer_id": "dev-123",
            "key_id": "key-456",
            // base64url of "tokenwell-doordash-test-secret!??" (its last
            // bytes encode with `_`).
            "signing_secret": "dG9rZW53ZWxsLWRvb3JkYXNoLXRlc3Qtc2VjcmV0IT8_",
        });
        for (k, v) in extra.as_object().unwrap() {
            value[k] = v.clone();
        }
        serde_json::from_value(value).unwrap()
    }

    fn minter(cfg: &TokenConfig) -> Result<Minter> {
        Minter::resolve(cfg, false).map(|m| m.unwrap().0)
    }

    /// Known answer: PyJWT 2.x, `jwt.encode({"aud": "doordash", "iss":
    /// "dev-123", "kid": "key-456", "exp": 1700001800, "iat": 1700000000},
    /// base64.urlsafe_b64decode(secret + "="), algorithm="HS256",
    /// headers={"dd-ver": "DD-JWT-V1", "kid": "key-456"}, sort_headers=False)`
    /// (PyJWT writes `typ` and `alg` first, as we do).
    #[test]
    fn a_minted_jwt_is_the_one_pyjwt_signs() {
        let jwt = minter(&config(serde_json::json!({})))
            .unwrap()
            .mint(1_700_000_000);
        assert_eq!(jwt.expose(), PYJWT_KNOWN_ANSWER);
    }

    const PYJWT_KNOWN_ANSWER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImRkLXZlciI6IkRELUpXVC1WMSIsImtpZCI6ImtleS00NTYifQ.\
    eyJhdWQiOiJkb29yZGFzaCIsImlzcyI6ImRldi0xMjMiLCJraWQiOiJrZXktNDU2IiwiZXhwIjoxNzAwMDAxODAwLCJpYXQiOjE3MDAwMDAwMDB9.\
    CBF5_ZGzl31RzdE6msm1e-pF6AYWMtJ3YhdzJ3Wb3-I";

    #[test]
    fn bad_input_is_a_config_error_naming_the_key_and_never_the_secret() {
        let cases = [
            (
                serde_json::json!({"signing_secret": "not base64url!"}),
                "signing_secret",
            ),
            (
                serde_json::json!({"signing_secret": "a+b/"}),
                "signing_secret",
            ),
            (serde_json::json!({"signing_secret": ""}), "signing_secret"),
            (
                serde_json::json!({"assertion": {"lifetime_secs": 1801}}),
                "assertion.lifetime_secs",
            ),
            (
                serde_json::json!({"assertion": {"lifetime_secs": 59}}),
                "assertion.lifetime_secs",
            ),
            (serde_json::json!({"developer_id": ""}), "developer_id"),
            (serde_json::json!({"key_id": null}), "key_id"),
            (
                serde_json::json!({"signing_secret": null}),
                "signing_secret",
            ),
            (serde_json::json!({"client_secret": "x"}), "client_secret"),
            (serde_json::json!({"client_id": "x"}), "client_id"),
            (
                serde_json::json!({"assertion": {"audience": "x"}}),
                "assertion.lifetime_secs",
            ),
        ];
        for (extra, key) in cases {
            let cfg = config(extra.clone());
            let err = minter(&cfg).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{extra}");
            let text = err.to_string();
            assert!(text.contains(key), "{extra}: {text}");
            assert!(!text.contains("not base64url!"), "{text}");
        }
        let ok = minter(&config(
            serde_json::json!({"assertion": {"lifetime_secs": 1800}}),
        ));
        assert!(ok.is_ok());
        let padded = config(serde_json::json!({"signing_secret": "c2VjcmV0MQ=="}));
        assert!(minter(&padded).is_ok());
    }

    #[test]
    fn other_providers_refuse_the_doordash_keys() {
        for key in ["developer_id", "signing_secret"] {
            let cfg: TokenConfig = serde_json::from_value(serde_json::json!({
                "provider": "custom", "token_url": "https://a.example/t",
                "client_id": "a", "client_secret": "b", key: "c2VjcmV0",
            }))
            .unwrap();
            let err = Minter::resolve(&cfg, false).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains("doordash"), "{err}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let m = minter(&config(serde_json::json!({}))).unwrap();
        let text = format!("{m:?}");
        assert!(
            text.contains("[redacted]") && !text.contains("dG9rZW53"),
            "{text}"
        );
    }
}
