//! What `dev` keeps between runs, in `PATH/.mcp-oauth/dev/`: the signing key,
//! the registered clients, the live refresh tokens and the last run's ports,
//! so a client signed in yesterday still works and `dev token` knows where
//! the stand-in was. Git ignores the directory (its own `.gitignore`); every
//! file is readable by its owner only. Secrets are kept as SHA-256 digests.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::keys::SigningKey;

/// The state directory, relative to the project.
pub const DIR: &str = ".mcp-oauth/dev";
const KEY_FILE: &str = "signing-key.p8";
const STATE_FILE: &str = "state.json";
/// The answers `dev` runs with, for `check --answers`.
pub const ANSWERS_FILE: &str = "answers.yaml";

/// Everything but the key, as stored in `state.json`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Saved {
    #[serde(default)]
    pub clients: BTreeMap<String, Client>,
    /// Refresh grants by the SHA-256 of their token.
    #[serde(default)]
    pub refresh_tokens: BTreeMap<String, Grant>,
    #[serde(default)]
    pub last_run: Option<Run>,
}

/// A client registered through RFC 7591.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    /// The registration response without the secret, echoed on registration.
    pub metadata: Map<String, Value>,
    pub redirect_uris: Vec<String>,
    pub name: Option<String>,
    pub auth_method: String,
    pub secret_sha256: Option<String>,
}

/// What a code or a refresh token grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub client_id: String,
    pub sub: String,
    pub scopes: Vec<String>,
}

/// Where the stand-in last ran, for `dev token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub auth_port: u16,
    pub port: u16,
    pub resource: String,
}

/// The state directory of one project.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens (creating) `root/.mcp-oauth/dev`; `reset` forgets what it held.
    pub fn open(root: &Path, reset: bool) -> anyhow::Result<Self> {
        let dir = root.join(DIR);
        if reset {
            for file in [KEY_FILE, STATE_FILE] {
                match fs::remove_file(dir.join(file)) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        return Err(error)
                            .with_context(|| format!("removing {}", dir.join(file).display()));
                    }
                    _ => {}
                }
            }
        }
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        restrict(&dir, 0o700)?;
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            fs::write(
                &ignore,
                "# mcp-oauth-new dev: local keys and clients, never committed\n*\n",
            )
            .with_context(|| format!("writing {}", ignore.display()))?;
        }
        Ok(Store { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The signing key, made and stored on first use.
    pub fn key(&self) -> anyhow::Result<SigningKey> {
        let path = self.dir.join(KEY_FILE);
        match fs::read(&path) {
            Ok(bytes) => SigningKey::from_pkcs8(bytes).with_context(|| {
                format!(
                    "{} is not a signing key; `mcp-oauth-new dev --reset` makes a new one",
                    path.display()
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate()?;
                if self.write_new(KEY_FILE, key.pkcs8())? {
                    Ok(key)
                } else {
                    // Another `dev` or `dev token` made one meanwhile: every
                    // process must sign with the one on disk.
                    self.key()
                }
            }
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The saved state; nothing saved yet is the empty state.
    pub fn load(&self) -> anyhow::Result<Saved> {
        let path = self.dir.join(STATE_FILE);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is not readable state; `mcp-oauth-new dev --reset` starts afresh",
                    path.display()
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Saved::default()),
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, saved: &Saved) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(saved).context("encoding the dev state")?;
        self.write(STATE_FILE, &json)
    }

    /// Writes the answers `dev` runs with.
    pub fn save_answers(&self, yaml: &str) -> anyhow::Result<()> {
        self.write(ANSWERS_FILE, yaml.as_bytes())
    }

    /// Replaces a file at once, readable by its owner only (tempfile makes
    /// its files 0600).
    fn write(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        self.staged(name, bytes)?
            .persist(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        restrict(&path, 0o600)
    }

    /// Creates a file at once unless it exists; whether it was created.
    fn write_new(&self, name: &str, bytes: &[u8]) -> anyhow::Result<bool> {
        let path = self.dir.join(name);
        match self.staged(name, bytes)?.persist_noclobber(&path) {
            Ok(_) => Ok(true),
            Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(error).with_context(|| format!("writing {}", path.display())),
        }
    }

    /// `bytes` in a temporary file beside `name`, flushed to disk.
    fn staged(&self, name: &str, bytes: &[u8]) -> anyhow::Result<tempfile::NamedTempFile> {
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)
            .with_context(|| format!("writing in {}", self.dir.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.as_file().sync_all())
            .with_context(|| format!("writing {}", self.dir.join(name).display()))?;
        Ok(file)
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("restricting {} to its owner", path.display()))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_and_state_persist_privately_and_reset_forgets_them() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path(), false).unwrap();
        let kid = store.key().unwrap().kid().to_owned();
        let mut saved = store.load().unwrap();
        assert!(saved.clients.is_empty());
        saved.last_run = Some(Run {
            auth_port: 3001,
            port: 3000,
            resource: "http://127.0.0.1:3000/mcp".into(),
        });
        store.save(&saved).unwrap();

        let again = Store::open(root.path(), false).unwrap();
        assert_eq!(again.key().unwrap().kid(), kid);
        assert_eq!(again.load().unwrap().last_run, saved.last_run);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for file in [KEY_FILE, STATE_FILE] {
                let mode = fs::metadata(again.dir().join(file))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{file}");
            }
        }
        let ignore = fs::read_to_string(again.dir().join(".gitignore")).unwrap();
        assert!(ignore.lines().any(|line| line == "*"));

        let reset = Store::open(root.path(), true).unwrap();
        assert!(reset.load().unwrap().last_run.is_none());
        assert_ne!(reset.key().unwrap().kid(), kid);
    }

    #[test]
    fn processes_making_the_first_key_at_once_all_sign_with_the_one_on_disk() {
        let root = tempfile::tempdir().unwrap();
        let kids: Vec<String> = std::thread::scope(|scope| {
            let makers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let store = Store::open(root.path(), false).unwrap();
                        store.key().unwrap().kid().to_owned()
                    })
                })
                .collect();
            makers
                .into_iter()
                .map(|maker| maker.join().unwrap())
                .collect()
        });
        let on_disk = Store::open(root.path(), false).unwrap().key().unwrap();
        for kid in kids {
            assert_eq!(kid, on_disk.kid());
        }
    }

    #[test]
    fn unreadable_state_names_reset() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path(), false).unwrap();
        fs::write(store.dir().join(STATE_FILE), "{not json").unwrap();
        let error = format!("{:#}", store.load().unwrap_err());
        assert!(error.contains("--reset"), "{error}");
    }
}
