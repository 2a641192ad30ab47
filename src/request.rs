//! Building the exact token request for a profile: method, URL, headers, body bytes.

use std::fmt;

use crate::config::{BasicEncoding, Encoding};
use crate::profile::{Credentials, Profile};
use crate::redact::{debug_request, form_encode};

/// An HTTP request, ready for any transport. `Debug` hides the body and the
/// `Authorization` header: both carry the client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `POST` for token requests; `GET` (sent without a body) for the
    /// discovery of a token endpoint.
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
        let (url, body) = (&self.url, self.body.len());
        debug_request(&mut f.debug_struct("HttpRequest"), self.method, url, &names, body).finish()
    }
}

/// Multipart boundary: fixed so requests are byte-for-byte reproducible in
/// golden tests and the conformance vectors of every language.
pub const MULTIPART_BOUNDARY: &str = "tokenwell-8f3a2c1e9b7d4f60";

/// Builds the token request.
pub fn build(profile: &Profile, creds: &Credentials) -> HttpRequest {
    build_with(profile, creds, None)
}

/// Builds the token request of a client that authenticates with a client
/// assertion (`client_secret_jwt`, `private_key_jwt`): `client_id`,
/// `client_assertion_type` and `client_assertion` in the body, no secret.
pub fn build_signed(profile: &Profile, creds: &Credentials, client_assertion: &str) -> HttpRequest {
    build_with(profile, creds, Some(client_assertion))
}

fn build_with(profile: &Profile, creds: &Credentials, assertion: Option<&str>) -> HttpRequest {
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some((name, value)) = &profile.grant_type {
        fields.push((name, value.clone()));
    }
    if profile.credentials.secret_in_body() {
        fields.push((&profile.client_id_field, creds.client_id.clone()));
        fields.push((
            &profile.client_secret_field,
            creds.client_secret.expose().to_owned(),
        ));
    }
    let assertion = assertion.filter(|_| profile.credentials.is_assertion());
    // Mutual TLS: the certificate authenticates the client, the id names it.
    if assertion.is_some() || profile.credentials.is_mtls() {
        fields.push((&profile.client_id_field, creds.client_id.clone()));
    }
    if let Some(assertion) = assertion {
        let assertion_type = crate::assertion::ASSERTION_TYPE.to_owned();
        fields.push(("client_assertion_type", assertion_type));
        fields.push(("client_assertion", assertion.to_owned()));
    }

    let mut headers = Vec::with_capacity(profile.headers.len() + 2);
    if profile.credentials.uses_basic() {
        let pair = basic_pair(profile.basic_encoding, creds);
        let encoded = crate::b64::encode(pair.as_bytes(), false, true);
        headers.push(("authorization".to_owned(), format!("Basic {encoded}")));
    }

    let (content_type, body) = match profile.encoding {
        Encoding::Json => {
            let fields = fields.into_iter().map(|(k, v)| (k, v.into()));
            let params = profile.params.iter().map(|(k, v)| (k.as_str(), v.clone()));
            (
                "application/json".to_owned(),
                json_object(fields.chain(params)),
            )
        }
        Encoding::Form => {
            let mut form = String::new();
            let params = profile
                .params
                .iter()
                .map(|(k, v)| (k.as_str(), scalar_text(v)));
            for (k, v) in fields.into_iter().chain(params) {
                if !form.is_empty() {
                    form.push('&');
                }
                form.push_str(&form_encode(k));
                form.push('=');
                form.push_str(&form_encode(&v));
            }
            (
                "application/x-www-form-urlencoded".to_owned(),
                form.into_bytes(),
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

/// `client_id:client_secret` for HTTP Basic: each form-encoded first (RFC 6749
/// §2.3.1), unless the profile says the server wants them raw.
fn basic_pair(encoding: BasicEncoding, creds: &Credentials) -> String {
    let (id, secret) = (creds.client_id.as_str(), creds.client_secret.expose());
    match encoding {
        BasicEncoding::Raw => format!("{id}:{secret}"),
        BasicEncoding::Form => {
            format!("{}:{}", form_encode(id), form_encode(secret))
        }
    }
}

/// A JSON object of `entries` in their order, a repeated name keeping its first
/// place and taking its last value: what serializing a `serde_json::Map` with
/// `preserve_order` gives, without depending on that feature (the WebAssembly
/// build leaves it out).
fn json_object<'a>(entries: impl Iterator<Item = (&'a str, serde_json::Value)>) -> Vec<u8> {
    let mut object: Vec<(&str, serde_json::Value)> = Vec::new();
    for (name, value) in entries {
        match object.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => object.push((name, value)),
        }
    }
    let mut body = vec![b'{'];
    for (i, (name, value)) in object.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut body, name);
        body.push(b':');
        let _ = serde_json::to_writer(&mut body, value);
    }
    body.push(b'}');
    body
}

/// The text form of a scalar parameter (`"x"` → `x`, `1800` → `1800`).
fn scalar_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::json_object;

    /// The body is what serde_json's ordered map (this crate's native build
    /// enables `preserve_order`) serializes to, repeated names included.
    #[test]
    fn json_bodies_are_ordered_maps() {
        let entries = [
            ("grant_type", json!("client_credentials")),
            ("client_id", json!("c\"\u{e9}\u{1}/")),
            ("audience", json!(1)),
            ("client_id", json!(true)),
            ("ttl", json!(1.5)),
            ("", json!(null)),
        ];
        let mut map = serde_json::Map::new();
        for (k, v) in entries.clone() {
            map.insert(k.to_owned(), v);
        }
        assert_eq!(
            String::from_utf8(json_object(entries.into_iter())).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(json_object(std::iter::empty()), b"{}");
    }
}
