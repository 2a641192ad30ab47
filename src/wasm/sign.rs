//! Client assertion signatures in WebAssembly: the package's JS glue
//! (`js/src/client.mjs`, handed over once through `setSigner`) imports the
//! PKCS#8 key into the runtime's WebCrypto and signs (ECDSA's output is already
//! JWS's `r || s`). The algorithm dictionaries live in that JS function, which
//! does not count toward the module's size.

use std::cell::OnceCell;

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::config::AssertionAlgorithm;
use crate::error::{Error, Result};

thread_local! {
    static SIGNER: OnceCell<Function> = const { OnceCell::new() };
}

/// Sets the function that signs: `(alg, pkcs8, input) => Promise<Uint8Array>`,
/// `alg` one of `RS256`, `PS256`, `ES256`. The first call wins.
#[wasm_bindgen(js_name = setSigner)]
pub fn set_signer(signer: Function) {
    SIGNER.with(|cell| {
        let _ = cell.set(signer);
    });
}

pub(super) async fn sign(
    algorithm: AssertionAlgorithm,
    pkcs8: std::sync::Arc<[u8]>,
    message: Vec<u8>,
) -> Result<Vec<u8>> {
    let promise = SIGNER.with(|cell| {
        cell.get().ok_or(JsValue::UNDEFINED)?.call3(
            &JsValue::NULL,
            &algorithm.name().into(),
            &Uint8Array::from(&pkcs8[..]),
            &Uint8Array::from(&message[..]),
        )
    });
    let run = async { JsFuture::from(promise?.unchecked_into::<Promise>()).await };
    // No detail: it would be the runtime's words about the key.
    match run.await {
        Ok(out) => Ok(Uint8Array::new(&out).to_vec()),
        Err(_) => Err(Error::config(
            "the private key cannot sign (WebCrypto refuses it)",
        )),
    }
}
