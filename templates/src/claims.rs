//! What checking an access token concludes: who the caller is, or why the
//! token was refused. Shared by the check (`auth.rs`), its cache
//! (`token_cache.rs`) and everything after it, so none of them depends on
//! another for these types.

use std::collections::BTreeSet;

use jsonwebtoken::errors::ErrorKind;

/// What a validated access token says about its caller. Never holds the token.
#[derive(Clone, Debug)]
pub struct Claims {
    pub sub: String,
    pub client_id: Option<String>,
    /// Scalekit's organisation id (`oid`), when the token has one.
    pub organization_id: Option<String>,
    /// Granted scopes from `scope` and `scopes`, with their `includes` applied.
    pub scopes: BTreeSet<String>,
}

impl Claims {
    pub fn has_all(&self, required: &[&str]) -> bool {
        required.iter().all(|scope| self.scopes.contains(*scope))
    }
}

/// Why a token was refused; the description goes into the challenge and the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Critical,
    Algorithm,
    MissingKeyId,
    UnknownKey,
    Signature,
    Expired,
    NotYetValid,
    Audience,
    Issuer,
    Claims,
}

impl TokenError {
    /// Whether checking the same token again with the same keys must give
    /// the same answer. An unknown `kid` is not: it makes the server fetch
    /// the keys. Nor is a token not valid yet.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::UnknownKey | Self::NotYetValid)
    }

    /// Whether the token failed after its signature verified: the
    /// authorization server made it, and its client only needs a new one.
    /// Anyone can make the other kind (not a JWT, a wrong `alg`, `crit`, an
    /// unknown `kid`, a bad signature), so only those count as forgeries.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Self::Expired | Self::NotYetValid | Self::Audience | Self::Issuer | Self::Claims
        )
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Malformed => "The access token is not a well-formed JWT",
            Self::Critical => {
                "The access token has a critical header (crit) this server does not understand"
            }
            Self::Algorithm => "The access token must be signed with RS256",
            Self::MissingKeyId => "The access token has no key id (kid)",
            Self::UnknownKey => "The access token is signed with an unknown key",
            Self::Signature => "The access token signature is invalid",
            Self::Expired => "The access token expired",
            Self::NotYetValid => "The access token is not valid yet",
            Self::Audience => "The access token was not issued for this resource",
            Self::Issuer => "The access token has an unexpected issuer",
            Self::Claims => "The access token has missing or malformed claims",
        }
    }
}

/// jsonwebtoken checks the signature before any claim, so the claims' errors
/// below only come from correctly signed tokens.
impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::InvalidAlgorithm => Self::Algorithm,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidClaimFormat(_)
            | ErrorKind::Json(_) => Self::Claims,
            _ => Self::Malformed,
        }
    }
}
