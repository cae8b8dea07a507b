//! One crypto library, `ring`, for everything this server does: TLS to the
//! authorization server's key endpoint (rustls), the RS256 check of access
//! tokens (jsonwebtoken) and the SHA-256 of the cache of checked tokens.
//! It builds in seconds, where aws-lc-rs's C build took a third of the first
//! `cargo build`.
//!
//! jsonwebtoken gets a provider that verifies RS256 only, the one algorithm
//! Scalekit signs with, and signs nothing: any other algorithm is refused
//! here as well as in [`crate::auth`].

use jsonwebtoken::{
    Algorithm, DecodingKey, DecodingKeyKind,
    crypto::{CryptoProvider, JwtVerifier, KeyUtils},
    errors::ErrorKind,
    signature::{self, Verifier},
};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

/// Installs `ring` as the process' TLS provider and RS256 verifier. Call it
/// before any HTTP client or token check exists; later calls do nothing.
/// A provider installed before the first call (by the owner's code) stays.
pub fn install() {
    // Each refuses a second provider, which is what makes later calls do nothing.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = JWT.install_default();
}

static JWT: CryptoProvider = CryptoProvider {
    signer_factory: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
    verifier_factory: |algorithm, key| match algorithm {
        Algorithm::RS256 => Ok(Box::new(Rs256(key.clone()))),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    },
    key_utils: KeyUtils::new_unimplemented(),
};

/// RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 to 8192 bits. The keys
/// come from the key set's JWKs (`n` and `e`); a key of any other kind
/// verifies nothing.
struct Rs256(DecodingKey);

impl Verifier<Vec<u8>> for Rs256 {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> signature::Result<()> {
        let DecodingKeyKind::RsaModulusExponent { n, e } = self.0.kind() else {
            return Err(signature::Error::new());
        };
        RsaPublicKeyComponents { n, e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Rs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}
