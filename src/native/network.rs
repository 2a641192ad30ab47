//! The native transport's network settings: the proxy, the CAs trusted for the
//! token endpoint and the client certificate of mutual TLS (`http.*`).
//!
//! Every file is read and checked when the client is built, so a setting that
//! cannot work is a `config` error then, naming its key and never its value (a
//! proxy URL carries a password; a key file is a secret). What was read is kept
//! as reqwest's own types, so the HTTP client can be built again (after a
//! fork) without reading the files again.
//!
//! The process shares one HTTP client (TLS configuration and connection pool)
//! per distinct set of settings, found by [`Network::key`]: a digest of every
//! setting, in which the client key and the proxy's password appear only
//! through SHA-256. Two clients with different certificates, CAs or proxies
//! never share a connection.

use sha2::{Digest, Sha256};

use super::redis::read_small_file;
use crate::config::HttpOptions;
use crate::error::{Error, Result};
use crate::redact::Redactor;
use crate::secret::Secret;

/// Largest certificate or CA file read: a bundle of a few hundred certificates fits.
const MAX_CERT_FILE_BYTES: u64 = 1024 * 1024;
/// Largest private key file read: an RSA 16384-bit key fits.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The settings of one HTTP client, read and checked.
#[derive(Clone)]
pub struct Network {
    key: [u8; 32],
    connect_timeout_ms: u64,
    proxy: Option<reqwest::Proxy>,
    roots: Vec<reqwest::Certificate>,
    roots_only: bool,
    identity: Option<reqwest::Identity>,
    /// Scrubs the proxy's user and password from errors.
    redactor: Option<Redactor>,
}

/// The settings' shape only: never the proxy URL or a file's contents.
impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("proxy", &self.proxy.is_some())
            .field("roots", &self.roots.len())
            .field("roots_only", &self.roots_only)
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

impl Network {
    /// Reads and checks `http`'s proxy, CA file and client certificate.
    pub fn new(http: &HttpOptions) -> Result<Network> {
        let mut key = Sha256::new();
        key.update(b"tokenwell/http-client/v1\0");
        key.update(http.connect_timeout_ms.to_be_bytes());

        let (proxy, redactor) = match &http.proxy {
            Some(url) => {
                let (proxy, redactor) = proxy(url, http.no_proxy.as_deref())?;
                key.update(b"\x01proxy\0");
                key.update(Sha256::digest(url.expose().as_bytes()));
                key.update(http.no_proxy.as_deref().unwrap_or("").as_bytes());
                (Some(proxy), redactor)
            }
            None if http.no_proxy.is_some() => {
                return Err(Error::config(
                    "http.no_proxy is only used with http.proxy (the NO_PROXY environment \
                     variable goes with HTTPS_PROXY)",
                ))
            }
            None => (None, None),
        };

        let roots = match &http.ca_file {
            Some(path) => {
                let pem = read(path, "http.ca_file", MAX_CERT_FILE_BYTES)?;
                let roots = reqwest::Certificate::from_pem_bundle(&pem)
                    .ok()
                    .filter(|certs| !certs.is_empty())
                    .ok_or_else(|| Error::config("http.ca_file: not a PEM file of certificates"))?;
                key.update(b"\x02ca\0");
                key.update(Sha256::digest(&pem));
                key.update([u8::from(http.ca_only)]);
                roots
            }
            None if http.ca_only => {
                return Err(Error::config(
                    "http.ca_only needs http.ca_file (the only CAs to trust)",
                ))
            }
            None => Vec::new(),
        };

        let identity = match (&http.client_cert_file, &http.client_key_file) {
            (Some(cert), Some(key_file)) => {
                let (identity, fingerprint) = identity(cert, key_file)?;
                key.update(b"\x03identity\0");
                key.update(fingerprint.expose().as_bytes());
                Some(identity)
            }
            (None, None) => None,
            _ => {
                return Err(Error::config(
                    "http.client_cert_file and http.client_key_file go together",
                ))
            }
        };

        Ok(Network {
            key: key.finalize().into(),
            connect_timeout_ms: http.connect_timeout_ms,
            proxy,
            roots,
            roots_only: http.ca_only,
            identity,
            redactor,
        })
    }

    /// What the process's HTTP clients are shared by.
    pub fn key(&self) -> [u8; 32] {
        self.key
    }

    /// Scrubs the proxy's credentials from a transport error.
    pub fn scrub(&self, error: Error) -> Error {
        match &self.redactor {
            Some(r) => error.redacted(r),
            None => error,
        }
    }

    /// A client builder with these settings.
    pub fn builder(&self) -> reqwest::ClientBuilder {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_millis(self.connect_timeout_ms));
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.clone());
        }
        if !self.roots.is_empty() {
            let roots = self.roots.iter().cloned();
            builder = if self.roots_only {
                builder.tls_certs_only(roots)
            } else {
                builder.tls_certs_merge(roots)
            };
        }
        if let Some(identity) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        builder
    }
}

/// The fingerprint of `http.client_key_file`'s key (hex of a domain-separated
/// SHA-256 of its DER): what the cache key and the shared store's sealing key
/// derive from with mutual TLS, where no secret is sent.
pub fn client_key_fingerprint(http: &HttpOptions) -> Result<Secret> {
    let (Some(cert), Some(key)) = (&http.client_cert_file, &http.client_key_file) else {
        return Err(Error::config(
            "credentials \"tls_client_auth\" and \"self_signed_tls_client_auth\" need \
             http.client_cert_file and http.client_key_file",
        ));
    };
    identity(cert, key).map(|(_, fingerprint)| fingerprint)
}

fn read(path: &str, field: &str, limit: u64) -> Result<Vec<u8>> {
    read_small_file(path, limit).map_err(|why| Error::config(format!("{field}: {why}")))
}

/// The proxy of `http.proxy` (and `http.no_proxy`). Errors never quote the URL.
fn proxy(url: &Secret, no_proxy: Option<&str>) -> Result<(reqwest::Proxy, Option<Redactor>)> {
    let parsed = url::Url::parse(url.expose())
        .map_err(|_| Error::config("http.proxy: not a URL (http://host:port)"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::config(
            "http.proxy: an http:// or https:// URL with a host is needed",
        ));
    }
    let redactor = (!parsed.username().is_empty() || parsed.password().is_some()).then(|| {
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let user = decode(parsed.username());
        let password = decode(parsed.password().unwrap_or(""));
        // The user too: with the password it makes the Basic credentials.
        let mut r = Redactor::new(&user, &password);
        if password.is_empty() {
            r = Redactor::new("", &user);
        }
        r
    });
    let mut proxy = reqwest::Proxy::all(parsed)
        .map_err(|_| Error::config("http.proxy: reqwest cannot use this proxy URL"))?;
    if let Some(list) = no_proxy {
        proxy = proxy.no_proxy(reqwest::NoProxy::from_string(list));
    }
    Ok((proxy, redactor))
}

/// The client certificate and key, checked to belong together, and the key's
/// fingerprint. Errors name the key, never a file's contents.
fn identity(cert_file: &str, key_file: &str) -> Result<(reqwest::Identity, Secret)> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert_pem = read(cert_file, "http.client_cert_file", MAX_CERT_FILE_BYTES)?;
    let key_pem = read(key_file, "http.client_key_file", MAX_KEY_FILE_BYTES)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .ok()
        .filter(|certs| !certs.is_empty())
        .ok_or_else(|| Error::config("http.client_cert_file: not a PEM file of certificates"))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
        Error::config("http.client_key_file: not a PEM private key (PKCS#8, PKCS#1 or SEC1)")
    })?;
    let mut h = Sha256::new();
    h.update(b"tokenwell/client-key/v1\0");
    h.update(key.secret_der());
    let fingerprint = Secret::new(hex(&h.finalize()));

    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    match rustls::sign::CertifiedKey::from_der(certs, key, &provider) {
        Ok(_) => {}
        Err(rustls::Error::InconsistentKeys(_)) => {
            return Err(Error::config(
                "http.client_key_file does not match http.client_cert_file's certificate",
            ))
        }
        Err(_) => {
            return Err(Error::config(
                "http.client_key_file / http.client_cert_file: a key or certificate rustls \
                 cannot use",
            ))
        }
    }
    // reqwest reads the pair from one PEM buffer.
    let mut both = cert_pem;
    both.push(b'\n');
    both.extend_from_slice(&key_pem);
    let identity = reqwest::Identity::from_pem(&both).map_err(|_| {
        Error::config(
            "http.client_cert_file / http.client_key_file: only certificates and one private \
             key can be read (no other PEM sections)",
        )
    })?;
    Ok((identity, fingerprint))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
