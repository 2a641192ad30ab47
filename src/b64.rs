//! Base64 (RFC 4648) in a few lines: the standard and URL-safe alphabets, with
//! or without padding. The `base64` crate's general-purpose engine is 6 KB of
//! WebAssembly for the handful of short values tokenwell encodes; this decides
//! exactly as it does (the tests hold it to the crate).

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes` in base64: the URL-safe alphabet if `url_safe`, `=` padding if `pad`.
pub(crate) fn encode(bytes: &[u8], url_safe: bool, pad: bool) -> String {
    let alphabet = if url_safe { URL_SAFE } else { STANDARD };
    let mut out = String::with_capacity(bytes.len().div_ceil(3).saturating_mul(4));
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes unpadded URL-safe base64 as the `base64` crate's `URL_SAFE_NO_PAD`
/// does: `None` for any other byte (`=` included), a length of 1 mod 4, or
/// unused bits that are not zero.
pub(crate) fn decode_url_safe(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text.as_bytes() {
        let v = URL_SAFE.iter().position(|&a| a == c)?;
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;

    use super::*;

    /// Every length to 70 over varied bytes, both alphabets, with and without
    /// padding, against the `base64` crate.
    #[test]
    fn encodes_as_the_base64_crate() {
        let bytes: Vec<u8> = (0..70u32).map(|i| (i * 97 + 13) as u8).collect();
        for n in 0..=bytes.len() {
            let b = &bytes[..n];
            assert_eq!(encode(b, false, true), STANDARD.encode(b));
            assert_eq!(encode(b, false, false), STANDARD_NO_PAD.encode(b));
            assert_eq!(encode(b, true, true), URL_SAFE.encode(b));
            assert_eq!(encode(b, true, false), URL_SAFE_NO_PAD.encode(b));
        }
    }

    /// Decoding agrees with `URL_SAFE_NO_PAD` on valid text, on every
    /// single-byte change of it (odd bytes, `=`, `+`, `/`, whitespace, unused
    /// bits set) and on every length.
    #[test]
    fn decodes_as_the_base64_crate() {
        let bytes: Vec<u8> = (0..40u32).map(|i| (i * 131 + 7) as u8).collect();
        let mut texts = vec![String::new(), "=".into(), "A".into(), "AA==".into()];
        for n in 0..=bytes.len() {
            let text = URL_SAFE_NO_PAD.encode(&bytes[..n]);
            for at in 0..text.len() {
                for c in [
                    'A', 'B', 'Q', 'g', '-', '_', '+', '/', '=', ' ', '\n', '\u{e9}',
                ] {
                    let mut t: Vec<char> = text.chars().collect();
                    t[at] = c;
                    texts.push(t.into_iter().collect());
                }
            }
            texts.push(format!("{text}="));
            texts.push(text[..text.len().saturating_sub(1)].to_owned());
            texts.push(text);
        }
        for t in &texts {
            assert_eq!(decode_url_safe(t), URL_SAFE_NO_PAD.decode(t).ok(), "{t:?}");
        }
    }
}
