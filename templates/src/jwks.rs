//! The authorization server's signing keys, fetched lazily and cached.
//!
//! Keys are parsed once per fetch. A `kid` that is not cached triggers one
//! refetch, at most once per refresh interval and by one request at a time;
//! when the key endpoint is down, cached keys keep working.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    DecodingKey,
    jwk::{AlgorithmParameters, Jwk, PublicKeyUse},
};
use serde::Deserialize;
use tokio::sync::Mutex;

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

type Keys = HashMap<String, Arc<DecodingKey>>;

pub struct KeySet {
    client: reqwest::Client,
    url: String,
    refresh_interval: Duration,
    keys: RwLock<Arc<Keys>>,
    /// When the last fetch started; held while fetching, so fetches never overlap.
    last_fetch: Mutex<Option<Instant>>,
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    pub fn new(url: String, refresh_interval: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .build()?;
        Ok(Self {
            client,
            url,
            refresh_interval,
            keys: RwLock::default(),
            last_fetch: Mutex::new(None),
        })
    }

    /// The key for `kid`, refetching the set once if it is not cached.
    pub async fn get(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited for the lock.
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        if last_fetch.is_some_and(|at| at.elapsed() < self.refresh_interval) {
            return None;
        }
        *last_fetch = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched signing keys");
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "could not fetch signing keys; keeping the cached ones");
            }
        }
        self.cached(kid)
    }

    fn cached(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(kid)
            .cloned()
    }

    async fn fetch(&self) -> Result<Keys, reqwest::Error> {
        let document: JwksDocument = self
            .client
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        // Only RSA signing keys are usable (tokens are RS256); anything else is skipped.
        Ok(document
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter(|jwk| {
                matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
                    && matches!(
                        jwk.common.public_key_use,
                        None | Some(PublicKeyUse::Signature)
                    )
            })
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(&jwk).ok()?;
                Some((jwk.common.key_id?, Arc::new(key)))
            })
            .collect())
    }
}
