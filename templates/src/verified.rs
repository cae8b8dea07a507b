//! Tokens already verified, so a client's repeated token is not verified
//! again on every request.
//!
//! An entry is keyed by the SHA-256 of the token (the token itself is never
//! kept), answers only before the token's `exp` and only while the signing
//! keys are those it was verified with, and the table is bounded. Only
//! successful verifications are kept: a refused token is checked in full
//! every time.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::digest::{SHA256, digest};

use crate::auth::Claims;

/// Enough for every client of a busy replica; about 300 bytes each.
pub const MAX_ENTRIES: usize = 10_000;

type Digest = [u8; 32];

struct Entry {
    claims: Arc<Claims>,
    /// The token's `exp`, in seconds since the epoch.
    expires_at: u64,
    /// The signing keys' generation the token was verified with.
    generation: u64,
}

#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<Digest, Entry>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified with the current keys
    /// (`generation`) and has not expired.
    pub fn get(&self, token: &str, generation: u64) -> Option<Arc<Claims>> {
        let key = fingerprint(token);
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&key)?;
        (entry.generation == generation && now() < entry.expires_at)
            .then(|| Arc::clone(&entry.claims))
    }

    /// Remembers a token verified with the keys of `generation`, read before
    /// the verification started, so keys that changed meanwhile make the
    /// entry stale at once.
    pub fn insert(&self, token: &str, claims: Arc<Claims>, expires_at: u64, generation: u64) {
        let now = now();
        if expires_at <= now {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, entry| entry.generation == generation && now < entry.expires_at);
            if entries.len() >= MAX_ENTRIES {
                // Still full of live tokens: start over rather than grow.
                entries.clear();
            }
        }
        entries.insert(
            fingerprint(token),
            Entry {
                claims,
                expires_at,
                generation,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn fingerprint(token: &str) -> Digest {
    let mut key = [0; 32];
    key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    key
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn claims(sub: &str) -> Arc<Claims> {
        Arc::new(Claims {
            sub: sub.to_owned(),
            client_id: None,
            organization_id: None,
            scopes: BTreeSet::new(),
        })
    }

    #[test]
    fn a_verified_token_is_found_until_it_expires_or_the_keys_change() {
        let cache = VerifiedTokens::default();
        cache.insert("token-a", claims("a"), now() + 60, 1);
        assert_eq!(cache.get("token-a", 1).unwrap().sub, "a");
        assert!(cache.get("token-b", 1).is_none());
        assert!(cache.get("token-a", 2).is_none(), "new keys: verify again");

        cache.insert("expired", claims("e"), now(), 1);
        assert!(cache.get("expired", 1).is_none());
        cache.insert("expiring", claims("x"), now() + 1, 1);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(cache.get("expiring", 1).is_none(), "never past exp");
    }

    #[test]
    fn the_table_stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..MAX_ENTRIES + 10 {
            cache.insert(&format!("token-{i}"), claims("u"), now() + 60, 1);
        }
        assert!(cache.len() <= MAX_ENTRIES, "{}", cache.len());
        assert!(
            cache
                .get(&format!("token-{}", MAX_ENTRIES + 9), 1)
                .is_some()
        );
        // Entries of an older key generation go first.
        let cache = VerifiedTokens::default();
        for i in 0..MAX_ENTRIES {
            cache.insert(&format!("old-{i}"), claims("u"), now() + 60, 1);
        }
        cache.insert("new", claims("n"), now() + 60, 2);
        assert_eq!(cache.len(), 1);
    }
}
