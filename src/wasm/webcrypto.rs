//! Sealing and client assertion signatures in WebAssembly through the runtime's
//! WebCrypto (`crypto.subtle`): the same AES-256-GCM under HKDF-SHA256 as
//! natively, and RS256/PS256/ES256 over a PKCS#8 key, with no Rust crypto in the
//! module. The calls themselves (and their algorithm dictionaries) are three
//! small functions of the package's JS glue (`js/src/client.mjs`), handed over
//! once through `setCrypto`: JS does not count toward the module's size.

use std::cell::OnceCell;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::config::AssertionAlgorithm;
use crate::error::{Error, ErrorKind, Result};
use crate::fleet::record::SEAL_SALT;

#[wasm_bindgen]
extern "C" {
    /// The glue's WebCrypto calls. Each receives views of the module's memory
    /// and copies them before its first `await`; each returns a promise of the
    /// output bytes.
    pub type JsCrypto;
    /// `(alg, pkcs8, input)`, `alg` one of `RS256`, `PS256`, `ES256`: the JWS
    /// signature (ECDSA's is already `r || s`).
    #[wasm_bindgen(method, catch)]
    fn sign(
        this: &JsCrypto,
        alg: &str,
        pkcs8: &[u8],
        input: &[u8],
    ) -> std::result::Result<Promise, JsValue>;
    /// `(ikm, salt, info, nonce, aad, plaintext)`: AES-256-GCM under the HKDF-SHA256 key.
    #[wasm_bindgen(method, catch)]
    fn seal(
        this: &JsCrypto,
        ikm: &[u8],
        salt: &[u8],
        info: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> std::result::Result<Promise, JsValue>;
    /// `(ikm, salt, info, nonce, aad, sealed)`: the plaintext, or a rejection.
    #[wasm_bindgen(method, catch)]
    fn open(
        this: &JsCrypto,
        ikm: &[u8],
        salt: &[u8],
        info: &[u8],
        nonce: &[u8],
        aad: &[u8],
        sealed: &[u8],
    ) -> std::result::Result<Promise, JsValue>;
}

thread_local! {
    static CRYPTO: OnceCell<JsCrypto> = const { OnceCell::new() };
}

/// Sets the glue's WebCrypto calls (`{ sign, seal, open }`). The first call wins.
#[wasm_bindgen(js_name = setCrypto)]
pub fn set_crypto(calls: JsCrypto) {
    CRYPTO.with(|cell| {
        let _ = cell.set(calls);
    });
}

/// The bytes `call` promises; any failure (no glue, a throw, a rejection) is `Err`.
async fn run(
    call: impl FnOnce(&JsCrypto) -> std::result::Result<Promise, JsValue>,
) -> std::result::Result<Vec<u8>, JsValue> {
    let promise = CRYPTO.with(|cell| call(cell.get().ok_or(JsValue::UNDEFINED)?))?;
    Ok(Uint8Array::new(&JsFuture::from(promise).await?).to_vec())
}

pub(super) async fn sign(
    algorithm: AssertionAlgorithm,
    pkcs8: std::sync::Arc<[u8]>,
    message: Vec<u8>,
) -> Result<Vec<u8>> {
    // No detail: it would be the runtime's words about the key.
    run(|c| c.sign(algorithm.name(), &pkcs8, &message))
        .await
        .map_err(|_| Error::config("the private key cannot sign (WebCrypto refuses it)"))
}

pub(super) async fn seal(
    ikm: Vec<u8>,
    info: Vec<u8>,
    nonce: [u8; 12],
    aad: Vec<u8>,
    plaintext: Vec<u8>,
) -> Result<Vec<u8>> {
    run(|c| c.seal(&ikm, SEAL_SALT, &info, &nonce, &aad, &plaintext))
        .await
        .map_err(|_| Error::new(ErrorKind::Internal, "WebCrypto cannot seal a token"))
}

pub(super) async fn open(
    ikm: Vec<u8>,
    info: Vec<u8>,
    nonce: [u8; 12],
    aad: Vec<u8>,
    sealed: Vec<u8>,
) -> Result<Vec<u8>> {
    run(|c| c.open(&ikm, SEAL_SALT, &info, &nonce, &aad, &sealed))
        .await
        .map_err(|_| Error::new(ErrorKind::Store, "a stored record does not open"))
}
