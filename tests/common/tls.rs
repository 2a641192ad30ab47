//! A test PKI (a CA, server and client certificates made on the fly), a
//! loopback HTTPS token endpoint that can require a client certificate, and a
//! loopback CONNECT proxy that counts its tunnels. Plain threads: nothing here
//! depends on the runtime under test. A test binary includes it with
//! `#[path = "common/tls.rs"] mod tls;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA and the files of what it signed, in a directory of their own.
pub struct Pki {
    pub dir: PathBuf,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM files.
#[derive(Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub der: Vec<u8>,
    key_der: Vec<u8>,
}

impl Pki {
    /// A fresh CA named `name`, its PEM at `ca.pem` in a new directory.
    pub fn new(name: &str) -> Pki {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "tokenwell-tls-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("tokenwell test CA {name}"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        std::fs::write(dir.join("ca.pem"), issuer.pem()).unwrap();
        Pki { dir, issuer }
    }

    /// The CA certificate's PEM file.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A certificate for the loopback server.
    pub fn server(&self) -> Issued {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue("server", params)
    }

    /// A client certificate with common name `name`.
    pub fn client(&self, name: &str) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(name, params)
    }

    fn issue(&self, name: &str, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let issued = Issued {
            cert: self.dir.join(format!("{name}.crt")),
            key: self.dir.join(format!("{name}.key")),
            der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        };
        std::fs::write(&issued.cert, cert.pem()).unwrap();
        std::fs::write(&issued.key, key.serialize_pem()).unwrap();
        issued
    }

    /// A file in the PKI's directory.
    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One request the HTTPS endpoint answered.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The DER of the certificate the client presented, if it did.
    pub client_cert: Option<Vec<u8>>,
    pub body: String,
    pub authorization: Option<String>,
}

/// A loopback HTTPS token endpoint: grants `tok-N` for an hour, `Connection:
/// close` (every request a new TLS handshake).
pub struct HttpsEndpoint {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl HttpsEndpoint {
    /// Serves with `server`'s certificate; with `client_ca`, only to clients
    /// presenting a certificate that CA signed.
    pub fn start(server: &Issued, client_ca: Option<&Pki>) -> HttpsEndpoint {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_ca {
            Some(pki) => {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(CertificateDer::from(pki.issuer.der().to_vec()))
                    .unwrap();
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = Arc::new(
            builder
                .with_single_cert(
                    vec![CertificateDer::from(server.der.clone())],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone())),
                )
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (config, seen) = (config.clone(), seen2.clone());
                std::thread::spawn(move || serve(stream, config, seen));
            }
        });
        HttpsEndpoint { port, seen }
    }

    /// `https://127.0.0.1:<port>/token`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/token", self.port)
    }

    /// The requests answered so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, config: Arc<rustls::ServerConfig>, seen: Arc<Mutex<Vec<Seen>>>) {
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok();
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let Some((head, body)) = read_request(&mut tls) else {
        return;
    };
    let client_cert = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec());
    let authorization = header(&head, "authorization");
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push(Seen {
            client_cert,
            body,
            authorization,
        });
        seen.len()
    };
    let json = format!(r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":3600}}"#);
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
    let _ = tls.write_all(response.as_bytes());
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
}

/// The request head (lines) and body (by `content-length`).
fn read_request(stream: &mut impl Read) -> Option<(Vec<String>, String)> {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let length: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, String::from_utf8_lossy(&body).into_owned()))
}

fn header(head: &[String], name: &str) -> Option<String> {
    head.iter().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// A loopback HTTP proxy that only tunnels (`CONNECT`) and counts the tunnels
/// it opened; with `credentials`, only for `Proxy-Authorization: Basic` of them.
pub struct ConnectProxy {
    pub port: u16,
    tunnels: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl ConnectProxy {
    pub fn start(credentials: Option<(&str, &str)>) -> ConnectProxy {
        use base64::Engine;
        let expected = credentials.map(|(user, password)| {
            let pair = format!("{user}:{password}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (t, r) = (tunnels.clone(), refused.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (t, r, expected) = (t.clone(), r.clone(), expected.clone());
                std::thread::spawn(move || tunnel(stream, &t, &r, expected.as_deref()));
            }
        });
        ConnectProxy {
            port,
            tunnels,
            refused,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Tunnels opened so far.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }

    /// Requests refused for want of the right credentials.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

fn tunnel(
    mut client: TcpStream,
    tunnels: &AtomicUsize,
    refused: &AtomicUsize,
    expected: Option<&str>,
) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let Some(target) = head
        .first()
        .and_then(|l| l.strip_prefix("CONNECT "))
        .and_then(|l| l.split(' ').next())
        .map(str::to_owned)
    else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    if let Some(expected) = expected {
        if header(&head, "proxy-authorization").as_deref() != Some(expected) {
            refused.fetch_add(1, Ordering::SeqCst);
            let _ = client.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        }
    }
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    tunnels.fetch_add(1, Ordering::SeqCst);
    let _ = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
    // The reader hands on whatever it buffered past the head first.
    let mut up_write = upstream.try_clone().unwrap();
    let mut up_read = upstream;
    let mut client_write = client.try_clone().unwrap();
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Both);
    let _ = forward.join();
}

/// A path as a config string.
pub fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}
