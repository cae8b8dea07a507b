//! The authorization server's signing keys, fetched lazily and cached.
//!
//! Keys are parsed once per fetch. A `kid` that is not cached triggers one
//! refetch, at most once per refresh interval and by one request at a time;
//! when the key endpoint is down, cached keys keep working. A cache older than
//! the max age is still served, and refreshed in the background, so keys the
//! authorization server removes stop working without a restart. Each change
//! of the set bumps its generation, which empties the cache of checked
//! tokens.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use jsonwebtoken::{
    DecodingKey,
    jwk::{AlgorithmParameters, Jwk, PublicKeyUse},
};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::metrics;

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

type Keys = HashMap<String, Arc<DecodingKey>>;

/// Shared with the background refresh, which outlives the request that
/// started it, and with the readiness probe; clones share one cache.
#[derive(Clone)]
pub struct KeySet(Arc<Inner>);

struct Inner {
    client: reqwest::Client,
    url: String,
    refresh_interval: Duration,
    max_age: Duration,
    cache: RwLock<Cache>,
    /// When the last fetch started; held while fetching, so fetches never overlap.
    last_fetch: Arc<Mutex<Option<Instant>>>,
    /// Bumped whenever a fetch brings a set that differs from the cached one.
    generation: AtomicU64,
}

#[derive(Default)]
struct Cache {
    keys: Keys,
    /// The usable keys as published, by `kid`: what "the set changed" compares.
    published: BTreeMap<String, serde_json::Value>,
    /// When `keys` was last fetched successfully; `None` before the first fetch.
    fetched_at: Option<Instant>,
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    pub fn new(
        url: String,
        refresh_interval: Duration,
        max_age: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .build()?;
        Ok(Self(Arc::new(Inner {
            client,
            url,
            refresh_interval,
            max_age,
            cache: RwLock::default(),
            last_fetch: Arc::default(),
            generation: AtomicU64::new(0),
        })))
    }

    /// Changes whenever the set of keys changes; a token checked with an
    /// earlier generation's keys must be checked again.
    pub fn generation(&self) -> u64 {
        self.0.generation.load(Ordering::Acquire)
    }

    /// The key for `kid`, refetching the set once if it is not cached.
    pub async fn get(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        if let Some(key) = self.0.cached(kid) {
            self.refresh_if_stale();
            return Some(key);
        }
        let mut last_fetch = self.0.last_fetch.lock().await;
        // Another request may have fetched while this one waited for the lock.
        if let Some(key) = self.0.cached(kid) {
            return Some(key);
        }
        if last_fetch.is_some_and(|at| at.elapsed() < self.0.refresh_interval) {
            return None;
        }
        *last_fetch = Some(Instant::now());
        self.0.refresh().await;
        self.0.cached(kid)
    }

    /// Answers go on from the cache without waiting; an old cache is
    /// refreshed behind them, so a removed key is dropped soon after. Called
    /// on every use of the keys, including tokens answered from the
    /// cache of checked tokens.
    pub fn refresh_if_stale(&self) {
        if self.0.is_stale() {
            self.refresh_in_background();
        }
    }

    /// Whether keys were fetched and the cached set is younger than its
    /// maximum age: the server's readiness.
    pub fn is_ready(&self) -> bool {
        !self.0.is_stale()
    }

    /// Starts one refresh, unless a fetch is running or one started within the refresh interval.
    pub fn refresh_in_background(&self) {
        let Ok(mut last_fetch) = self.0.last_fetch.clone().try_lock_owned() else {
            return;
        };
        if last_fetch.is_some_and(|at| at.elapsed() < self.0.refresh_interval) {
            return;
        }
        *last_fetch = Some(Instant::now());
        let inner = self.0.clone();
        tokio::spawn(async move {
            inner.refresh().await;
            // Released only now, so no other fetch starts while this one runs.
            drop(last_fetch);
        });
    }
}

impl Inner {
    fn cached(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys
            .get(kid)
            .cloned()
    }

    fn is_stale(&self) -> bool {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.max_age)
    }

    /// Fetches the set and replaces the cached one whole, so removed keys go;
    /// on failure the cached keys stay.
    async fn refresh(&self) {
        match self.fetch().await {
            Ok((keys, published)) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched signing keys");
                metrics::jwks_fetch(Some(keys.len()));
                let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
                if cache.published != published {
                    // Under the write lock, so no reader sees new keys with
                    // the old generation.
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                *cache = Cache {
                    keys,
                    published,
                    fetched_at: Some(Instant::now()),
                };
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "could not fetch signing keys; keeping the cached ones");
                metrics::jwks_fetch(None);
            }
        }
    }

    /// The usable keys, parsed, and as published.
    async fn fetch(&self) -> Result<(Keys, BTreeMap<String, serde_json::Value>), reqwest::Error> {
        let document: JwksDocument = self
            .client
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut keys = Keys::new();
        let mut published = BTreeMap::new();
        for value in document.keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
                continue;
            };
            // Only RSA signing keys are usable (tokens are RS256); anything else is skipped.
            let usable = matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
                && matches!(
                    jwk.common.public_key_use,
                    None | Some(PublicKeyUse::Signature)
                );
            if !usable {
                continue;
            }
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(&jwk))
            else {
                continue;
            };
            keys.insert(kid.clone(), Arc::new(key));
            published.insert(kid, value);
        }
        Ok((keys, published))
    }
}
