//! Client assertions (RFC 7523 §2.2): the signed JWT a client sends instead of
//! its secret with `private_key_jwt` (RS256, PS256, ES256) or
//! `client_secret_jwt` (HS256).
//!
//! Everything but the RSA and ECDSA signature itself is decided here, the same
//! in every language: which PEM forms are keys tokenwell reads (PKCS#8 only,
//! RSA of at least 2048 bits or EC P-256; every refusal names the `openssl`
//! command that fixes it), the JWS header and claims, base64url and the
//! compact form, HMAC-SHA256, and the key's fingerprint (what the cache key
//! and the shared store's sealing derive from instead of a secret). The
//! signature is the platform's ([`Platform::sign`]: aws-lc-rs natively,
//! WebCrypto in WebAssembly).

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::config::{AssertionAlgorithm, CredentialsIn, TokenConfig};
use crate::error::{Error, Result};
use crate::platform::{Host, Platform};
use crate::secret::Secret;

/// The `client_assertion_type` of a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The assertion's lifetime unless configured, in seconds.
pub const DEFAULT_LIFETIME_SECS: u64 = 60;

/// The longest assertion lifetime accepted, in seconds.
pub const MAX_LIFETIME_SECS: u64 = 300;

/// The commands that make a key tokenwell reads.
const NEW_RSA: &str =
    "make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pk8.pem`";
const NEW_EC: &str = "make one with `openssl genpkey -algorithm EC -pkeyopt \
                      ec_paramgen_curve:P-256 -out key.pk8.pem`";
const NEW_KEY: &str = "make one with `openssl genpkey -algorithm RSA -pkeyopt \
                       rsa_keygen_bits:2048 -out key.pk8.pem` (RS256, PS256) or `openssl genpkey \
                       -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pk8.pem` (ES256)";

/// What kind of key a PKCS#8 document holds (as far as signing cares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA with a modulus of this many bits.
    Rsa(usize),
    /// EC on P-256.
    P256,
}

/// A private key read from PKCS#8 PEM: its DER and kind. Never printed.
#[derive(Clone)]
pub struct PrivateKey {
    der: Arc<[u8]>,
    kind: KeyKind,
    /// A domain-separated SHA-256 of the DER, in hex: the cache key's and the
    /// sealing key's input in place of a client secret.
    fingerprint: Secret,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?}, [redacted])", self.kind)
    }
}

impl PrivateKey {
    /// The key's kind.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The PKCS#8 DER (what the platform signs with).
    pub(crate) fn der(&self) -> &Arc<[u8]> {
        &self.der
    }

    /// The key's fingerprint (hex of a domain-separated SHA-256 of its DER): it
    /// reveals nothing of the key, and two keys never share one.
    pub fn fingerprint(&self) -> &Secret {
        &self.fingerprint
    }
}

/// Reads a PKCS#8 PEM private key (`field` names it in errors: `private_key`
/// or `private_key_file`). Every other form is a `config` error naming the
/// `openssl` command that converts or replaces the key; no error quotes the key.
pub fn parse_private_key(pem: &str, field: &str) -> Result<PrivateKey> {
    let refused =
        |what: &str, command: &str| Error::config(format!("{field} is {what}: {command}"));
    let convert = "tokenwell reads PKCS#8 (BEGIN PRIVATE KEY): convert it with `openssl pkcs8 \
                   -topk8 -nocrypt -in key.pem -out key.pk8.pem`";
    let (label, der) =
        pem_block(pem.as_bytes()).ok_or_else(|| refused("not a PEM private key", convert))?;
    let kind = match (label, classify(&der)) {
        (b"PRIVATE KEY", Some(Class::Rsa(bits))) if bits >= 2048 => KeyKind::Rsa(bits),
        (b"PRIVATE KEY", Some(Class::P256)) => KeyKind::P256,
        (b"PRIVATE KEY", Some(Class::Rsa(bits))) => {
            return Err(refused(
                &format!("a {bits}-bit RSA key; RS256 and PS256 need at least 2048 bits"),
                NEW_RSA,
            ))
        }
        (b"PRIVATE KEY", Some(Class::OtherCurve)) => {
            return Err(refused(
                "an EC key on a curve other than P-256 (ES256 needs P-256)",
                NEW_EC,
            ))
        }
        (b"PRIVATE KEY", Some(Class::Other)) => {
            return Err(refused("neither an RSA nor an EC P-256 key", NEW_KEY))
        }
        (b"RSA PRIVATE KEY", _) => return Err(refused("a PKCS#1 RSA key", convert)),
        (b"EC PRIVATE KEY", _) => return Err(refused("a SEC1 EC key", convert)),
        (b"ENCRYPTED PRIVATE KEY", _) => {
            return Err(refused(
                "an encrypted PKCS#8 key (keep it unencrypted, as a secret)",
                convert,
            ))
        }
        _ => return Err(refused("not a PEM private key", convert)),
    };
    let mut h = Sha256::new();
    h.update(b"tokenwell/private-key/v1\0");
    h.update(&der);
    Ok(PrivateKey {
        fingerprint: Secret::new(hex(&h.finalize())),
        der: der.into(),
        kind,
    })
}

/// The position of `needle` in `haystack` (bytewise: `str::find` brings a
/// substring searcher into the WebAssembly build).
fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The label and bytes of the first PEM block of `text`.
fn pem_block(text: &[u8]) -> Option<(&[u8], Vec<u8>)> {
    let rest = text.get(position(text, b"-----BEGIN ")? + 11..)?;
    let label_end = position(rest, b"-----")?;
    let label = rest.get(..label_end)?;
    let body = rest.get(label_end + 5..)?;
    let end = position(body, b"-----END ")?;
    if !body.get(end + 9..)?.starts_with(label) {
        return None;
    }
    // Standard base64 with padding and line breaks, read as the URL-safe form.
    let b64: Vec<u8> = body
        .get(..end)?
        .iter()
        .filter(|c| !c.is_ascii_whitespace() && **c != b'=')
        .map(|&c| match c {
            b'+' => b'-',
            b'/' => b'_',
            c => c,
        })
        .collect();
    Some((
        label,
        crate::b64::decode_url_safe(std::str::from_utf8(&b64).ok()?)?,
    ))
}

enum Class {
    Rsa(usize),
    P256,
    OtherCurve,
    Other,
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// One DER TLV: (tag, contents, the rest).
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Classifies a PKCS#8 `PrivateKeyInfo` (`None` if it is not one).
fn classify(der: &[u8]) -> Option<Class> {
    let (0x30, info, _) = tlv(der)? else {
        return None;
    };
    let (0x02, _version, rest) = tlv(info)? else {
        return None;
    };
    let (0x30, algorithm, rest) = tlv(rest)? else {
        return None;
    };
    let (0x04, private, _) = tlv(rest)? else {
        return None;
    };
    let (0x06, oid, params) = tlv(algorithm)? else {
        return None;
    };
    Some(if oid == OID_RSA {
        // RSAPrivateKey: SEQUENCE { version, modulus, ... }.
        let (0x30, key, _) = tlv(private)? else {
            return None;
        };
        let (0x02, _, rest) = tlv(key)? else {
            return None;
        };
        let (0x02, modulus, _) = tlv(rest)? else {
            return None;
        };
        let significant = modulus.iter().position(|&b| b != 0)?;
        let modulus = &modulus[significant..];
        Class::Rsa((modulus.len() - 1) * 8 + (8 - modulus[0].leading_zeros() as usize))
    } else if oid == OID_EC {
        match tlv(params) {
            Some((0x06, curve, _)) if curve == OID_P256 => Class::P256,
            _ => Class::OtherCurve,
        }
    } else {
        Class::Other
    })
}

/// The settings of a client's assertion, resolved from its config.
#[derive(Clone, Debug)]
pub struct Assertion {
    /// The JWS algorithm.
    pub algorithm: AssertionAlgorithm,
    /// The `aud` claim; `None`: the token endpoint the request goes to (with
    /// discovery, known only once the metadata is read).
    pub audience: Option<String>,
    /// Seconds from `iat` to `exp`.
    pub lifetime_secs: u64,
    /// The `kid` header.
    pub key_id: Option<String>,
    /// The `x5t#S256` header (base64url SHA-256 of the certificate's DER).
    pub x5t_s256: Option<String>,
    /// The private key (`private_key_jwt`); `None` for HS256, keyed by the
    /// client secret.
    pub key: Option<PrivateKey>,
}

impl Assertion {
    /// Resolves a config's assertion settings for `method` (an assertion
    /// method). `provider`: a credential provider gives the private key at
    /// the first fetch, so the algorithm cannot come from the key and must be
    /// configured.
    pub fn resolve(cfg: &TokenConfig, method: CredentialsIn, provider: bool) -> Result<Self> {
        use AssertionAlgorithm::*;
        let options = cfg.assertion.clone().unwrap_or_default();
        let key = match method {
            CredentialsIn::PrivateKeyJwt if provider => {
                if cfg.private_key.is_some() || cfg.private_key_file.is_some() {
                    return Err(Error::config(
                        "a credential provider replaces private_key and private_key_file",
                    ));
                }
                None
            }
            CredentialsIn::PrivateKeyJwt => Some(read_key(cfg)?),
            _ => None,
        };
        let algorithm = match (method, &key, options.algorithm) {
            (CredentialsIn::PrivateKeyJwt, Some(key), algorithm) => key_algorithm(key, algorithm)?,
            (CredentialsIn::PrivateKeyJwt, None, Some(HS256)) => return Err(hs256_needs_a_secret()),
            (CredentialsIn::PrivateKeyJwt, None, Some(algorithm)) => algorithm,
            (CredentialsIn::PrivateKeyJwt, None, None) => {
                return Err(Error::config(
                    "credentials \"private_key_jwt\" with a credential provider needs \
                     assertion.algorithm (RS256, PS256 or ES256): the key is unknown until the \
                     first fetch",
                ))
            }
            (_, _, None | Some(HS256)) => HS256,
            (_, _, Some(other)) => {
                return Err(Error::config(format!(
                    "assertion.algorithm {}: client_secret_jwt signs with HS256 only (RS256, \
                     PS256 and ES256 are private_key_jwt's)",
                    other.name()
                )))
            }
        };
        let audience = match options.audience.as_deref() {
            None | Some("token_endpoint") => None,
            Some("issuer") => Some(cfg.issuer.clone().ok_or_else(|| {
                Error::config("assertion.audience \"issuer\" needs the issuer key")
            })?),
            Some(url) => {
                let absolute = Host::parse_url(url)
                    .is_ok_and(|u| matches!(u.scheme.as_str(), "https" | "http"));
                if !absolute {
                    return Err(Error::config(
                        "assertion.audience must be \"token_endpoint\", \"issuer\" or an \
                         absolute http(s) URL",
                    ));
                }
                Some(url.to_owned())
            }
        };
        let lifetime_secs = options.lifetime_secs.unwrap_or(DEFAULT_LIFETIME_SECS);
        if !(1..=MAX_LIFETIME_SECS).contains(&lifetime_secs) {
            return Err(Error::config(format!(
                "assertion.lifetime_secs must be 1 to {MAX_LIFETIME_SECS}"
            )));
        }
        let x5t_s256 = match &cfg.certificate_file {
            Some(path) => Some(thumbprint(&read_file(path, "certificate_file")?)?),
            None => None,
        };
        Ok(Assertion {
            algorithm,
            audience,
            lifetime_secs,
            key_id: cfg.key_id.clone(),
            x5t_s256,
            key,
        })
    }

    /// Whether a private key signs (`private_key_jwt`), rather than the
    /// client secret (`client_secret_jwt`).
    pub fn uses_private_key(&self) -> bool {
        self.algorithm != AssertionAlgorithm::HS256
    }

    /// These settings with another private key (a rotated `private_key_file`):
    /// a `config` error if `pem` is not a key this assertion's algorithm signs
    /// with.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub fn with_key(&self, pem: &str, field: &str) -> Result<Self> {
        let key = parse_private_key(pem, field)?;
        key_algorithm(&key, Some(self.algorithm))?;
        Ok(Assertion {
            key: Some(key),
            ..self.clone()
        })
    }

    /// The signing input (`header.claims`, base64url) for `client_id` sending
    /// to `token_endpoint` at `now_secs` (Unix seconds) with the token id `jti`.
    pub fn signing_input(
        &self,
        client_id: &str,
        token_endpoint: &str,
        now_secs: i64,
        jti: &str,
    ) -> String {
        let mut header = vec![b'{'];
        push_member(&mut header, "alg", self.algorithm.name());
        push_member(&mut header, "typ", "JWT");
        if let Some(kid) = &self.key_id {
            push_member(&mut header, "kid", kid);
        }
        if let Some(x5t) = &self.x5t_s256 {
            push_member(&mut header, "x5t#S256", x5t);
        }
        header.push(b'}');
        let mut claims = vec![b'{'];
        push_member(&mut claims, "iss", client_id);
        push_member(&mut claims, "sub", client_id);
        let audience = self.audience.as_deref().unwrap_or(token_endpoint);
        push_member(&mut claims, "aud", audience);
        push_member(&mut claims, "jti", jti);
        let exp = now_secs.saturating_add(self.lifetime_secs as i64);
        claims.extend_from_slice(format!(",\"iat\":{now_secs},\"exp\":{exp}}}").as_bytes());
        format!(
            "{}.{}",
            crate::b64::encode(&header, true, false),
            crate::b64::encode(&claims, true, false)
        )
    }

    /// A fresh assertion for a request to `token_endpoint`: signed now
    /// (`now_ms`, Unix ms) with a random `jti`.
    pub async fn sign(
        &self,
        client_id: &str,
        secret: &Secret,
        token_endpoint: &str,
        now_ms: i64,
    ) -> Result<String> {
        let jti = format!("{:016x}{:016x}", Host::random_u64(), Host::random_u64());
        let now_secs = now_ms.div_euclid(1000);
        self.sign_with(client_id, secret, token_endpoint, now_secs, &jti)
            .await
    }

    /// [`Assertion::sign`] at a given time and `jti` (the known-answer tests).
    pub async fn sign_with(
        &self,
        client_id: &str,
        secret: &Secret,
        token_endpoint: &str,
        now_secs: i64,
        jti: &str,
    ) -> Result<String> {
        let input = self.signing_input(client_id, token_endpoint, now_secs, jti);
        let signature = match &self.key {
            None if self.uses_private_key() => {
                return Err(Error::config("no private key yet"));
            }
            None => hmac_sha256(secret.expose().as_bytes(), input.as_bytes()).to_vec(),
            Some(key) => {
                Host::sign(
                    self.algorithm,
                    key.der().clone(),
                    input.clone().into_bytes(),
                )
                .await?
            }
        };
        Ok(format!(
            "{input}.{}",
            crate::b64::encode(&signature, true, false)
        ))
    }
}

/// `,"name":"value"` (no comma first), the value JSON-escaped.
pub(crate) fn push_member(out: &mut Vec<u8>, name: &str, value: &str) {
    if out.len() > 1 {
        out.push(b',');
    }
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, name);
    out.push(b':');
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Refuses assertion settings that `method` would ignore.
pub(crate) fn check_unused(cfg: &TokenConfig, method: CredentialsIn) -> Result<()> {
    let key = method == CredentialsIn::PrivateKeyJwt;
    let (pk, both) = (
        "\"private_key_jwt\"",
        "\"private_key_jwt\" or \"client_secret_jwt\"",
    );
    let unused = [
        ("private_key", cfg.private_key.is_some() && !key, pk),
        (
            "private_key_file",
            cfg.private_key_file.is_some() && !key,
            pk,
        ),
        (
            "certificate_file",
            cfg.certificate_file.is_some() && !key,
            pk,
        ),
        ("key_id", cfg.key_id.is_some() && !key, pk),
        (
            "assertion",
            cfg.assertion.is_some() && !method.is_assertion(),
            both,
        ),
    ];
    match unused.into_iter().find(|(_, unused, _)| *unused) {
        Some((field, _, methods)) => Err(Error::config(format!(
            "{field} is only used with credentials {methods}"
        ))),
        None => Ok(()),
    }
}

/// The private key of a `private_key_jwt` config: exactly one of
/// `private_key` and `private_key_file`.
fn read_key(cfg: &TokenConfig) -> Result<PrivateKey> {
    match (&cfg.private_key, &cfg.private_key_file) {
        (Some(pem), None) => parse_private_key(pem.expose(), "private_key"),
        (None, Some(path)) => {
            parse_private_key(&read_file(path, "private_key_file")?, "private_key_file")
        }
        (None, None) => Err(Error::config(
            "credentials \"private_key_jwt\" needs private_key or private_key_file",
        )),
        (Some(_), Some(_)) => Err(Error::config(
            "private_key and private_key_file are exclusive: give one",
        )),
    }
}

/// The algorithm for `key`: the configured one if the key fits it, else the
/// key's own (RSA: RS256, P-256: ES256).
fn key_algorithm(
    key: &PrivateKey,
    algorithm: Option<AssertionAlgorithm>,
) -> Result<AssertionAlgorithm> {
    use AssertionAlgorithm::*;
    match (key.kind(), algorithm) {
        (KeyKind::Rsa(_), None) => Ok(RS256),
        (KeyKind::P256, None) => Ok(ES256),
        (KeyKind::Rsa(_), Some(a @ (RS256 | PS256))) | (KeyKind::P256, Some(a @ ES256)) => Ok(a),
        (_, Some(HS256)) => Err(hs256_needs_a_secret()),
        (KeyKind::Rsa(_), Some(_)) => Err(Error::config(format!(
            "assertion.algorithm ES256 needs an EC P-256 key, and the private key is an RSA \
             key: use RS256 or PS256, or {NEW_EC}"
        ))),
        (KeyKind::P256, Some(a)) => Err(Error::config(format!(
            "assertion.algorithm {} needs an RSA key, and the private key is an EC P-256 key: \
             use ES256, or {NEW_RSA}",
            a.name()
        ))),
    }
}

fn hs256_needs_a_secret() -> Error {
    Error::config(
        "assertion.algorithm HS256 is client_secret_jwt's (keyed by the client secret); \
         private_key_jwt signs with RS256, PS256 or ES256",
    )
}

/// A file's text (a key or certificate); its path may be named, its contents never.
#[cfg(not(target_arch = "wasm32"))]
fn read_file(path: &str, field: &str) -> Result<String> {
    // Keys and certificates are a few KB; a larger file is not one.
    const LIMIT: u64 = 1 << 20;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::config(format!("{field}: cannot read {path}: {}", e.kind())))?;
    if !meta.is_file() || meta.len() > LIMIT {
        return Err(Error::config(format!(
            "{field}: {path} is not a regular file of at most 1 MiB"
        )));
    }
    std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("{field}: cannot read {path}: {}", e.kind())))
}

/// WebAssembly has no file system: the key is given inline.
#[cfg(target_arch = "wasm32")]
fn read_file(_path: &str, field: &str) -> Result<String> {
    Err(Error::config(format!(
        "{field} is not available in WebAssembly (no file system): give the PEM text inline \
         (private_key)"
    )))
}

/// The `x5t#S256` of a PEM certificate: base64url SHA-256 of its DER.
fn thumbprint(pem: &str) -> Result<String> {
    match pem_block(pem.as_bytes()) {
        Some((b"CERTIFICATE", der)) => Ok(crate::b64::encode(&Sha256::digest(&der), true, false)),
        _ => Err(Error::config(
            "certificate_file is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
        )),
    }
}

/// HMAC-SHA256 (RFC 2104) over the SHA-256 the core already links.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    #[test]
    fn hmac_matches_rfc_4231() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hex(&hmac_sha256(key, data)), want);
        }
    }

    #[test]
    fn der_lengths_in_long_form_are_read() {
        let mut der = vec![0x04, 0x82, 0x01, 0x00];
        der.extend(std::iter::repeat_n(7u8, 256));
        let (tag, body, rest) = tlv(&der).unwrap();
        assert_eq!((tag, body.len(), rest.len()), (0x04, 256, 0));
        assert!(tlv(&[0x04, 0x82, 0x01]).is_none());
        assert!(tlv(&[0x04, 0x05, 1, 2]).is_none());
    }
}
