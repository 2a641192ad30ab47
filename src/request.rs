//! Building the exact token request for a profile: method, URL, headers, body bytes.

use std::fmt;

use base64::Engine as _;

use crate::config::{CredentialsIn, Encoding};
use crate::profile::{Credentials, Profile};

/// An HTTP request, ready for any transport. `Debug` hides the body and the
/// `Authorization` header: both carry the client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Always `POST` for token requests.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Lowercased header names with values, in a fixed order.
    pub headers: Vec<(String, String)>,
    /// The encoded body.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .field(
                "body",
                &format_args!("[{} bytes redacted]", self.body.len()),
            )
            .finish()
    }
}

/// Multipart boundary: fixed so requests are byte-for-byte reproducible in
/// golden tests and the conformance vectors of every language.
pub const MULTIPART_BOUNDARY: &str = "tokenwell-8f3a2c1e9b7d4f60";

/// Builds the token request.
pub fn build(profile: &Profile, creds: &Credentials) -> HttpRequest {
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some((name, value)) = &profile.grant_type {
        fields.push((name, value.clone()));
    }
    if profile.credentials != CredentialsIn::Basic {
        fields.push((&profile.client_id_field, creds.client_id.clone()));
        fields.push((
            &profile.client_secret_field,
            creds.client_secret.expose().to_owned(),
        ));
    }

    let mut headers = Vec::with_capacity(profile.headers.len() + 2);
    if profile.credentials != CredentialsIn::Body {
        let pair = format!("{}:{}", creds.client_id, creds.client_secret.expose());
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        headers.push(("authorization".to_owned(), format!("Basic {encoded}")));
    }

    let (content_type, body) = match profile.encoding {
        Encoding::Json => {
            let mut map = serde_json::Map::new();
            for (k, v) in fields {
                map.insert(k.to_owned(), v.into());
            }
            for (k, v) in &profile.params {
                map.insert(k.clone(), v.clone());
            }
            let body = serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default();
            ("application/json".to_owned(), body)
        }
        Encoding::Form => {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                form.append_pair(k, v);
            }
            for (k, v) in &profile.params {
                form.append_pair(k, &scalar_text(v));
            }
            (
                "application/x-www-form-urlencoded".to_owned(),
                form.finish().into_bytes(),
            )
        }
        Encoding::Multipart => {
            let mut body = String::new();
            let params = profile
                .params
                .iter()
                .map(|(k, v)| (k.as_str(), scalar_text(v)));
            for (k, v) in fields.into_iter().chain(params) {
                body.push_str("--");
                body.push_str(MULTIPART_BOUNDARY);
                body.push_str("\r\ncontent-disposition: form-data; name=\"");
                body.push_str(&k.replace('"', "%22"));
                body.push_str("\"\r\n\r\n");
                body.push_str(&v);
                body.push_str("\r\n");
            }
            body.push_str("--");
            body.push_str(MULTIPART_BOUNDARY);
            body.push_str("--\r\n");
            let ct = format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}");
            (ct, body.into_bytes())
        }
    };
    headers.push(("content-type".to_owned(), content_type));
    headers.extend(profile.headers.iter().cloned());
    HttpRequest {
        method: "POST",
        url: profile.token_url.clone(),
        headers,
        body,
    }
}

/// The text form of a scalar parameter (`"x"` → `x`, `1800` → `1800`).
fn scalar_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
