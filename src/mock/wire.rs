//! Request wire-format parsing: media types, HTTP Basic credentials and
//! `multipart/form-data` bodies. Everything returns an error message for the
//! client instead of panicking on malformed input.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hyper::header::{HeaderMap, HeaderName, ACCEPT, AUTHORIZATION, CONTENT_TYPE};

/// The lowercased `Content-Type` media type without parameters, and the raw header.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<(String, &str)> {
    let raw = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some((essence(raw), raw))
}

/// Whether the `Content-Type` media type is `want` (parameters such as `charset` ignored).
pub(crate) fn content_type_is(headers: &HeaderMap, want: &str) -> bool {
    content_type(headers).is_some_and(|(essence, _)| essence == want)
}

/// Whether `Accept` lists `want` exactly (wildcards do not count: Passport
/// answers JSON only when asked for it explicitly).
pub(crate) fn accepts(headers: &HeaderMap, want: &str) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| essence(range) == want)
}

fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Parses `; name=value` parameters (values optionally quoted) after a media type
/// or `Content-Disposition` type. Names are lowercased.
pub(crate) fn params(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = match header.find(';') {
        Some(i) => &header[i + 1..],
        None => return out,
    };
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            // Quoted string: backslash escapes the next character.
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        out.push((name, value));
    }
    out
}

fn param(header: &str, name: &str) -> Option<String> {
    params(header)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Client id and secret from `Authorization: Basic base64(id:secret)`, both
/// non-empty, each form-decoded as RFC 6749 §2.3.1 has clients encode them
/// (`%3A` is a `:` of the id, `+` a space).
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), &'static str> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or("missing HTTP Basic Authorization header")?
        .to_str()
        .map_err(|_| "Authorization header is not ASCII")?
        .trim();
    let (scheme, encoded) = value
        .split_once(' ')
        .ok_or("Authorization header must be `Basic <credentials>`")?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err("Authorization scheme must be Basic");
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| "Basic credentials are not valid base64")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "Basic credentials are not UTF-8")?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or("Basic credentials must be `client_id:client_secret`")?;
    let (id, secret) = (form_decode(id)?, form_decode(secret)?);
    if id.is_empty() || secret.is_empty() {
        return Err("Basic client_id and client_secret must be non-empty");
    }
    Ok((id, secret))
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space,
/// `%XX` a byte; a stray `%` stays as it is (as WHATWG's parser keeps it).
fn form_decode(value: &str) -> Result<String, &'static str> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "Basic credentials are not UTF-8 once form-decoded")
}

/// Fields of a `multipart/form-data` body, in order. `content_type` is the raw
/// header, which carries the boundary.
pub(crate) fn multipart_fields(
    content_type: &str,
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    let boundary = param(content_type, "boundary")
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or("multipart/form-data needs a boundary parameter of 1 to 70 characters")?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The delimiter before every part after the first starts on a new line.
    let next_delimiter = [b"\n", delimiter].concat();

    let start = find(body, delimiter).ok_or("multipart body has no boundary line")?;
    let mut rest = &body[start + delimiter.len()..];
    let mut fields = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(fields);
        }
        // Rest of the boundary line: optional transport padding, then a line end.
        let (padding, after) =
            split_line(rest).ok_or("multipart boundary line is not terminated")?;
        if padding.iter().any(|b| !matches!(b, b' ' | b'\t')) {
            return Err("unexpected characters after a multipart boundary".into());
        }
        rest = after;

        let mut name = None;
        loop {
            let (line, after) =
                split_line(rest).ok_or("multipart part headers are not terminated")?;
            rest = after;
            if line.is_empty() {
                break;
            }
            let line =
                std::str::from_utf8(line).map_err(|_| "multipart part header is not UTF-8")?;
            let (header, value) = line
                .split_once(':')
                .ok_or("malformed multipart part header")?;
            let header = HeaderName::from_bytes(header.trim().as_bytes())
                .map_err(|_| "malformed multipart part header name")?;
            if header == "content-disposition" {
                if essence(value) != "form-data" {
                    return Err("multipart part Content-Disposition must be form-data".into());
                }
                name = param(value, "name");
            }
        }
        let name = name.ok_or("multipart part has no Content-Disposition name")?;

        let end = find(rest, &next_delimiter).ok_or("multipart body has no closing boundary")?;
        let mut content = &rest[..end];
        if content.last() == Some(&b'\r') {
            content = &content[..content.len() - 1];
        }
        let value = String::from_utf8(content.to_vec())
            .map_err(|_| format!("multipart field `{name}` is not UTF-8"))?;
        fields.push((name, value));
        rest = &rest[end + next_delimiter.len()..];
    }
}

/// Splits off one line ending in LF (a preceding CR is dropped).
fn split_line(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let nl = data.iter().position(|&b| b == b'\n')?;
    let line = &data[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, &data[nl + 1..]))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
