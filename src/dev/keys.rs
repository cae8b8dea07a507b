//! The stand-in's RS256 signing key and the tokens it signs.
//!
//! The key is made once, with the `rsa` crate (pure Rust, so no C build for
//! `cargo install`), and kept as PKCS#8. Every signature goes through `ring`,
//! which the CLI already builds for rustls: `rsa`'s RUSTSEC-2023-0071 (a
//! timing side channel) concerns private-key operations, and none runs there.

use anyhow::{Context as _, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};

/// The RSA modulus size: what Scalekit's keys use, and enough for RS256.
const BITS: usize = 2048;

pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> anyhow::Result<Self> {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, BITS)
            .context("generating an RSA key")?;
        let der = key.to_pkcs8_der().context("encoding the RSA key")?;
        Self::from_pkcs8(der.as_bytes().to_vec())
    }

    /// A key read back from its PKCS#8 DER form.
    pub fn from_pkcs8(pkcs8: Vec<u8>) -> anyhow::Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|error| anyhow!("{error}"))?;
        let kid = format!("snk_dev_{}", &thumbprint(&public_jwk_members(&pair))[..16]);
        Ok(Self { kid, pair, pkcs8 })
    }

    /// The PKCS#8 DER bytes, to store.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, as Scalekit's `/keys` lists it.
    pub fn jwk(&self) -> Value {
        let (n, e) = public_jwk_members(&self.pair);
        json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": n, "e": e })
    }

    /// A compact JWS (RS256, `kid` in the header) of `claims`.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow!("signing a token failed"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// `n` and `e`, base64url without padding.
fn public_jwk_members(pair: &RsaKeyPair) -> (String, String) {
    let components = PublicKeyComponents::<Vec<u8>>::from(pair.public());
    (
        URL_SAFE_NO_PAD.encode(components.n),
        URL_SAFE_NO_PAD.encode(components.e),
    )
}

/// The RFC 7638 thumbprint of an RSA public key: a stable `kid`.
fn thumbprint((n, e): &(String, String)) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

/// 32 random bytes, base64url: codes, refresh tokens, client ids and secrets.
pub fn random_token() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256, base64url: PKCE S256 (RFC 7636 4.6) and the stored form of secrets.
pub fn sha256_b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_stored_form_and_signs_tokens_its_jwk_verifies() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pkcs8(key.pkcs8().to_vec()).unwrap();
        assert_eq!(key.kid(), again.kid());
        assert!(key.kid().starts_with("snk_dev_"));

        let token = again.sign(&json!({ "sub": "dev-user" })).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let jwk = key.jwk();
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
        let public = ring::signature::RsaPublicKeyComponents { n, e };
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        public
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                input.as_bytes(),
                &signature,
            )
            .unwrap();
        let mut forged = signature.clone();
        forged[7] ^= 1;
        assert!(
            public
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    input.as_bytes(),
                    &forged
                )
                .is_err()
        );
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            sha256_b64("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
