//! The authorization server's signing keys, fetched lazily and cached.
//!
//! Keys are parsed once per fetch. A `kid` that is not cached triggers one
//! refetch, at most once per refresh interval; when the key endpoint is down,
//! cached keys keep working. A cache older than the max age is still served,
//! and refreshed in the background, so keys the authorization server removes
//! stop working without a restart. Each change of the set bumps its
//! generation, which empties the cache of checked tokens.
//!
//! A fetch runs as a task of its own, never inside a request: requests that
//! need it wait for it, and a client that hangs up stops only its own wait,
//! so no client can cancel the fetch the others need. The set is fetched
//! without following redirects (the keys come from the configured URL or not
//! at all) and read up to [`MAX_BYTES`]; anything else is a failed fetch.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use jsonwebtoken::{
    DecodingKey,
    jwk::{AlgorithmParameters, Jwk, PublicKeyUse},
};
use reqwest::{StatusCode, redirect};
use serde::Deserialize;
use tokio::sync::watch;

use crate::{crypto, metrics};

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest key set read: real ones are a few KiB.
pub const MAX_BYTES: usize = 1024 * 1024;

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
    fetch: Mutex<Fetch>,
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

/// The fetches: one at a time, at most one per refresh interval.
#[derive(Default)]
struct Fetch {
    /// When the last fetch started.
    started: Option<Instant>,
    /// Closed when the last fetch ends: its sender lives in the fetch's task.
    done: Option<watch::Receiver<()>>,
}

/// Why a fetch failed; the cached keys stay.
enum FetchError {
    Http(reqwest::Error),
    /// Any status but 2xx, a redirect's included: redirects are not followed.
    Status(StatusCode),
    TooLarge,
    Json(serde_json::Error),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(error) => error.fmt(f),
            Self::Status(status) => write!(f, "the key endpoint answered {status}"),
            Self::TooLarge => write!(f, "the key set is over {MAX_BYTES} bytes"),
            Self::Json(error) => write!(f, "the key set is not a JWKS: {error}"),
        }
    }
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
        crypto::install();
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(redirect::Policy::none())
            .build()?;
        Ok(Self(Arc::new(Inner {
            client,
            url,
            refresh_interval,
            max_age,
            cache: RwLock::default(),
            fetch: Mutex::default(),
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
        if let Some(mut done) = self.start_fetch() {
            // Ends when the fetch does: its sender is dropped. A client that
            // hangs up drops only this wait.
            let _ = done.changed().await;
        }
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
        self.start_fetch();
    }

    /// The fetch in flight: the running one, else a new one unless one
    /// started within the refresh interval. `None` when there is none.
    fn start_fetch(&self) -> Option<watch::Receiver<()>> {
        let mut fetch = self.0.fetch.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(done) = &fetch.done
            && done.has_changed().is_ok()
        {
            return Some(done.clone());
        }
        if fetch
            .started
            .is_some_and(|at| at.elapsed() < self.0.refresh_interval)
        {
            return None;
        }
        let (finished, done) = watch::channel(());
        *fetch = Fetch {
            started: Some(Instant::now()),
            done: Some(done.clone()),
        };
        let inner = self.0.clone();
        tokio::spawn(async move {
            inner.refresh().await;
            drop(finished);
        });
        Some(done)
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
    async fn fetch(&self) -> Result<(Keys, BTreeMap<String, serde_json::Value>), FetchError> {
        let mut response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(FetchError::Http)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        // Read a chunk at a time, so a larger set costs no more than this.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::Http)? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let document: JwksDocument = serde_json::from_slice(&body).map_err(FetchError::Json)?;
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
