//! Sealing in WebAssembly through the runtime's WebCrypto (`crypto.subtle`):
//! the same AES-256-GCM under HKDF-SHA256 as natively, with no Rust crypto in
//! the module.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{Error, ErrorKind, Result};
use crate::fleet::record::SEAL_SALT;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key: &Uint8Array,
        algorithm: &str,
        extractable: bool,
        usages: &Array,
    ) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = deriveKey, catch)]
    fn derive_key(
        algorithm: &Object,
        base: &JsValue,
        derived: &Object,
        extractable: bool,
        usages: &Array,
    ) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = encrypt, catch)]
    fn encrypt(
        algorithm: &Object,
        key: &JsValue,
        data: &Uint8Array,
    ) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = decrypt, catch)]
    fn decrypt(
        algorithm: &Object,
        key: &JsValue,
        data: &Uint8Array,
    ) -> std::result::Result<Promise, JsValue>;
}

pub(super) fn object(fields: &[(&str, JsValue)]) -> Object {
    let obj = Object::new();
    for (k, v) in fields {
        // Setting a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&obj, &JsValue::from_str(k), v);
    }
    obj
}

pub(super) async fn settle(
    promise: std::result::Result<Promise, JsValue>,
) -> std::result::Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

async fn aes_key(ikm: &[u8], info: &[u8], usage: &str) -> std::result::Result<JsValue, JsValue> {
    let base = settle(import_key(
        "raw",
        &Uint8Array::from(ikm),
        "HKDF",
        false,
        &Array::of1(&"deriveKey".into()),
    ))
    .await?;
    let hkdf = object(&[
        ("name", "HKDF".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::from(SEAL_SALT).into()),
        ("info", Uint8Array::from(info).into()),
    ]);
    let aes = object(&[("name", "AES-GCM".into()), ("length", 256.into())]);
    settle(derive_key(
        &hkdf,
        &base,
        &aes,
        false,
        &Array::of1(&usage.into()),
    ))
    .await
}

fn gcm(nonce: &[u8; 12], aad: &[u8]) -> Object {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(&nonce[..]).into()),
        ("additionalData", Uint8Array::from(aad).into()),
    ])
}

pub(super) async fn seal(
    ikm: Vec<u8>,
    info: Vec<u8>,
    nonce: [u8; 12],
    aad: Vec<u8>,
    plaintext: Vec<u8>,
) -> Result<Vec<u8>> {
    let run = async {
        let key = aes_key(&ikm, &info, "encrypt").await?;
        let out = settle(encrypt(
            &gcm(&nonce, &aad),
            &key,
            &Uint8Array::from(&plaintext[..]),
        ))
        .await?;
        Ok::<_, JsValue>(Uint8Array::new(&out).to_vec())
    };
    run.await
        .map_err(|_| Error::new(ErrorKind::Internal, "WebCrypto cannot seal a token"))
}

pub(super) async fn open(
    ikm: Vec<u8>,
    info: Vec<u8>,
    nonce: [u8; 12],
    aad: Vec<u8>,
    sealed: Vec<u8>,
) -> Result<Vec<u8>> {
    let run = async {
        let key = aes_key(&ikm, &info, "decrypt").await?;
        let out = settle(decrypt(
            &gcm(&nonce, &aad),
            &key,
            &Uint8Array::from(&sealed[..]),
        ))
        .await?;
        Ok::<_, JsValue>(Uint8Array::new(&out).to_vec())
    };
    run.await
        .map_err(|_| Error::new(ErrorKind::Store, "a stored record does not open"))
}
