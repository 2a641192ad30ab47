//! Client assertion signatures natively: aws-lc-rs (the crypto library rustls
//! already links), RSA PKCS#1 v1.5 and PSS with SHA-256, ECDSA P-256 with the
//! fixed-length `r || s` signature JWS wants.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};

use crate::config::AssertionAlgorithm;
use crate::error::{Error, Result};

pub(super) fn sign(algorithm: AssertionAlgorithm, pkcs8: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    // The key was read by the core; a key aws-lc refuses is still the config's
    // fault (e.g. an RSA key whose parts do not agree). No detail: it is the key's.
    let refused = |_| Error::config("the private key cannot sign (aws-lc refuses it)");
    let rng = SystemRandom::new();
    match algorithm {
        AssertionAlgorithm::RS256 | AssertionAlgorithm::PS256 => {
            let key = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| refused(()))?;
            let padding = if algorithm == AssertionAlgorithm::RS256 {
                &RSA_PKCS1_SHA256
            } else {
                &RSA_PSS_SHA256
            };
            let mut signature = vec![0; key.public_modulus_len()];
            key.sign(padding, &rng, message, &mut signature)
                .map_err(|_| refused(()))?;
            Ok(signature)
        }
        AssertionAlgorithm::ES256 => {
            let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map_err(|_| refused(()))?;
            let signature = key.sign(&rng, message).map_err(|_| refused(()))?;
            Ok(signature.as_ref().to_vec())
        }
        AssertionAlgorithm::HS256 => Err(Error::new(
            crate::error::ErrorKind::Internal,
            "HS256 is signed by the core",
        )),
    }
}
