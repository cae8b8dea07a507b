//! What full checks of tokens concluded, so a client's repeated token is not
//! checked again on every request: its claims when it was accepted, the
//! reason when it was refused for good.
//!
//! Entries are keyed by the SHA-256 of the token (the token itself is never
//! kept) and hold only while the signing keys are those of the check. An
//! accepted token is answered only before its `exp`. A refusal is kept only
//! when it cannot change while the keys stay the same (a bad signature, an
//! expired token, another audience; not an unknown `kid`, which must still
//! make the server fetch the keys, nor a token not valid yet). Accepted and
//! refused tokens have tables of their own, each bounded, so a flood of
//! forged tokens cannot push out the valid ones.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{SystemTime, UNIX_EPOCH},
};

use ring::digest::{SHA256, digest};

use crate::claims::{Claims, TokenError};

/// Entries per table: enough for every client of a busy replica, about
/// 300 bytes each.
pub const MAX_ENTRIES: usize = 10_000;

/// A token's key in the cache: its SHA-256, so the token itself is never
/// kept. Computed once per request, for the lookup and the insert alike.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(token: &str) -> Self {
        let mut key = [0; 32];
        key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        Self(key)
    }
}

/// What a full check concluded.
#[derive(Clone, Debug)]
pub enum Verdict {
    Accepted(Arc<Claims>),
    Refused(TokenError),
}

struct Entry {
    verdict: Verdict,
    /// Seconds since the epoch after which the entry no longer answers.
    expires_at: u64,
    /// The signing keys' generation the token was checked with.
    generation: u64,
}

#[derive(Default)]
struct Table(RwLock<HashMap<Fingerprint, Entry>>);

impl Table {
    fn get(&self, key: &Fingerprint, generation: u64, now: u64) -> Option<Verdict> {
        let entries = self.0.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        (entry.generation == generation && now < entry.expires_at).then(|| entry.verdict.clone())
    }

    fn insert(&self, key: Fingerprint, entry: Entry, now: u64) {
        let mut entries = self.0.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, old| old.generation == entry.generation && now < old.expires_at);
            if entries.len() >= MAX_ENTRIES {
                // Still full of live entries: start over rather than grow.
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[derive(Default)]
pub struct TokenCache {
    accepted: Table,
    refused: Table,
}

impl TokenCache {
    /// What the last full check of the token concluded, if it was made with
    /// the current keys (`generation`) and still holds.
    pub fn get(&self, key: &Fingerprint, generation: u64) -> Option<Verdict> {
        let now = now();
        self.accepted
            .get(key, generation, now)
            .or_else(|| self.refused.get(key, generation, now))
    }

    /// Remembers what a full check with the keys of `generation` concluded.
    /// `generation` is read before the check started, so keys that changed
    /// meanwhile make the entry stale at once. `expires_at` is the token's
    /// `exp` for an accepted token.
    pub fn insert(&self, key: Fingerprint, verdict: Verdict, expires_at: u64, generation: u64) {
        let now = now();
        let (table, expires_at) = match &verdict {
            Verdict::Accepted(_) if expires_at <= now => return,
            Verdict::Accepted(_) => (&self.accepted, expires_at),
            Verdict::Refused(error) if !error.is_final() => return,
            Verdict::Refused(_) => (&self.refused, u64::MAX),
        };
        let entry = Entry {
            verdict,
            expires_at,
            generation,
        };
        table.insert(key, entry, now);
    }
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

    fn accepted(sub: &str) -> Verdict {
        Verdict::Accepted(Arc::new(Claims {
            sub: sub.to_owned(),
            client_id: None,
            organization_id: None,
            scopes: BTreeSet::new(),
        }))
    }

    fn key(token: &str) -> Fingerprint {
        Fingerprint::of(token)
    }

    fn sub(verdict: Option<Verdict>) -> Option<String> {
        match verdict? {
            Verdict::Accepted(claims) => Some(claims.sub.clone()),
            Verdict::Refused(_) => None,
        }
    }

    #[test]
    fn an_accepted_token_holds_until_it_expires_or_the_keys_change() {
        let cache = TokenCache::default();
        cache.insert(key("token-a"), accepted("a"), now() + 60, 1);
        assert_eq!(sub(cache.get(&key("token-a"), 1)).as_deref(), Some("a"));
        assert!(cache.get(&key("token-b"), 1).is_none());
        assert!(
            cache.get(&key("token-a"), 2).is_none(),
            "new keys: check again"
        );

        cache.insert(key("expired"), accepted("e"), now(), 1);
        assert!(cache.get(&key("expired"), 1).is_none());
        cache.insert(key("expiring"), accepted("x"), now() + 1, 1);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(cache.get(&key("expiring"), 1).is_none(), "never past exp");
    }

    #[test]
    fn only_final_refusals_are_kept_and_only_for_the_same_keys() {
        let cache = TokenCache::default();
        for error in [
            TokenError::Signature,
            TokenError::Expired,
            TokenError::Audience,
        ] {
            cache.insert(key("forged"), Verdict::Refused(error), 0, 1);
            assert!(
                matches!(cache.get(&key("forged"), 1), Some(Verdict::Refused(e)) if e == error)
            );
            assert!(cache.get(&key("forged"), 2).is_none());
        }
        for error in [TokenError::UnknownKey, TokenError::NotYetValid] {
            cache.insert(key("not-final"), Verdict::Refused(error), 0, 1);
            assert!(cache.get(&key("not-final"), 1).is_none(), "{error:?}");
        }
    }

    #[test]
    fn each_table_stays_bounded_and_refusals_cannot_push_out_accepted_tokens() {
        let cache = TokenCache::default();
        cache.insert(key("valid"), accepted("v"), now() + 60, 1);
        for i in 0..MAX_ENTRIES + 10 {
            cache.insert(
                key(&format!("forged-{i}")),
                Verdict::Refused(TokenError::Signature),
                0,
                1,
            );
        }
        assert!(
            cache.refused.len() <= MAX_ENTRIES,
            "{}",
            cache.refused.len()
        );
        assert_eq!(sub(cache.get(&key("valid"), 1)).as_deref(), Some("v"));
        for i in 0..MAX_ENTRIES + 10 {
            cache.insert(key(&format!("token-{i}")), accepted("u"), now() + 60, 1);
        }
        assert!(
            cache.accepted.len() <= MAX_ENTRIES,
            "{}",
            cache.accepted.len()
        );
        // Entries of an older key generation go first.
        let cache = TokenCache::default();
        for i in 0..MAX_ENTRIES {
            cache.insert(key(&format!("old-{i}")), accepted("u"), now() + 60, 1);
        }
        cache.insert(key("new"), accepted("n"), now() + 60, 2);
        assert_eq!(cache.accepted.len(), 1);
    }
}
