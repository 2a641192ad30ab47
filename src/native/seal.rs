//! Sealing natively: AES-256-GCM under an HKDF-SHA256 key (RustCrypto, so it
//! does not depend on which TLS crypto provider the process uses).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::error::{Error, ErrorKind, Result};
use crate::fleet::record::SEAL_SALT;

fn cipher(ikm: &[u8], info: &[u8]) -> Result<Aes256Gcm> {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(SEAL_SALT), ikm)
        .expand(info, &mut key)
        .map_err(|_| Error::new(ErrorKind::Internal, "cannot derive the sealing key"))?;
    Ok(Aes256Gcm::new(&key.into()))
}

pub(super) fn seal(
    ikm: &[u8],
    info: &[u8],
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    cipher(ikm, info)?
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::new(ErrorKind::Internal, "cannot seal a token"))
}

pub(super) fn open(
    ikm: &[u8],
    info: &[u8],
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>> {
    cipher(ikm, info)?
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
        .map_err(|_| Error::new(ErrorKind::Store, "a stored record does not open"))
}
