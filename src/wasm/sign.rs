//! Client assertion signatures in WebAssembly: the runtime's WebCrypto imports
//! the PKCS#8 key and signs (ECDSA's output is already JWS's `r || s`).

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;

use super::seal::{object, settle};
use crate::config::AssertionAlgorithm;
use crate::error::{Error, Result};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key: &Uint8Array,
        algorithm: &Object,
        extractable: bool,
        usages: &Array,
    ) -> std::result::Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = sign, catch)]
    fn subtle_sign(
        algorithm: &Object,
        key: &JsValue,
        data: &Uint8Array,
    ) -> std::result::Result<js_sys::Promise, JsValue>;
}

pub(super) async fn sign(
    algorithm: AssertionAlgorithm,
    pkcs8: std::sync::Arc<[u8]>,
    message: Vec<u8>,
) -> Result<Vec<u8>> {
    let sha256 = || JsValue::from("SHA-256");
    let (import, params) = match algorithm {
        AssertionAlgorithm::PS256 => (
            object(&[("name", "RSA-PSS".into()), ("hash", sha256())]),
            object(&[("name", "RSA-PSS".into()), ("saltLength", 32.into())]),
        ),
        AssertionAlgorithm::ES256 => (
            object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]),
            object(&[("name", "ECDSA".into()), ("hash", sha256())]),
        ),
        _ => (
            object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", sha256())]),
            object(&[("name", "RSASSA-PKCS1-v1_5".into())]),
        ),
    };
    let run = async {
        let key = settle(import_key(
            "pkcs8",
            &Uint8Array::from(&pkcs8[..]),
            &import,
            false,
            &Array::of1(&"sign".into()),
        ))
        .await?;
        let out = settle(subtle_sign(&params, &key, &Uint8Array::from(&message[..]))).await?;
        Ok::<_, JsValue>(Uint8Array::new(&out).to_vec())
    };
    // No detail: it would be the runtime's words about the key.
    run.await
        .map_err(|_| Error::config("the private key cannot sign (WebCrypto refuses it)"))
}
