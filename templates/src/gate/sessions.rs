//! Who owns each MCP session, and the caps on how many sessions there are:
//! per principal (`sub` and `client_id`) and on the whole server.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rmcp::transport::streamable_http_server::session::local::SessionConfig;

use crate::{claims::Claims, metrics};

/// rmcp closes idle sessions after its keep-alive; owners idle for twice that are forgotten.
const OWNER_IDLE_LIMIT: Duration =
    Duration::from_secs(2 * SessionConfig::DEFAULT_KEEP_ALIVE.as_secs());

/// The sessions' owners, and the sessions being created.
pub struct Sessions {
    per_principal: usize,
    total: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    by_session: HashMap<String, Owner>,
    /// `initialize`s let through and not answered yet, by principal: they
    /// count against the caps from the moment they are let through.
    creating: HashMap<Principal, usize>,
    last_pruned: Option<Instant>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Principal {
    sub: String,
    client_id: Option<String>,
}

impl Principal {
    fn of(claims: &Claims) -> Self {
        Self {
            sub: claims.sub.clone(),
            client_id: claims.client_id.clone(),
        }
    }

    fn is(&self, claims: &Claims) -> bool {
        self.sub == claims.sub && self.client_id == claims.client_id
    }
}

struct Owner {
    principal: Principal,
    last_seen: Instant,
}

impl Owner {
    fn is_fresh(&self) -> bool {
        self.last_seen.elapsed() < OWNER_IDLE_LIMIT
    }
}

/// Why an `initialize` may not open a session.
#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    /// The principal holds its cap of sessions.
    Principal(usize),
    /// The server holds its cap of sessions.
    Server(usize),
}

/// A session being created, counted against the caps: [`Reservation::created`]
/// records its owner; dropped without it, it frees its place.
pub struct Reservation {
    sessions: Arc<Sessions>,
    principal: Option<Principal>,
}

impl Sessions {
    pub fn new(per_principal: usize, total: usize) -> Self {
        Self {
            per_principal,
            total,
            table: Mutex::default(),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks both caps and takes a place under them in one step, so
    /// concurrent `initialize`s cannot all see room for one more.
    pub fn reserve(self: &Arc<Self>, claims: &Claims) -> Result<Reservation, Full> {
        let principal = Principal::of(claims);
        let mut table = self.table();
        table.prune();
        let creating: usize = table.creating.values().sum();
        let open = table.by_session.len() + creating;
        let held = table
            .by_session
            .values()
            .filter(|owner| owner.principal == principal)
            .count()
            + table.creating.get(&principal).copied().unwrap_or(0);
        if held >= self.per_principal {
            return Err(Full::Principal(self.per_principal));
        }
        if open >= self.total {
            return Err(Full::Server(self.total));
        }
        *table.creating.entry(principal.clone()).or_default() += 1;
        Ok(Reservation {
            sessions: self.clone(),
            principal: Some(principal),
        })
    }

    /// Whether `session` was created by the caller; refreshes its idle time.
    pub fn owned_by(&self, session: &str, claims: &Claims) -> bool {
        let mut table = self.table();
        match table.by_session.get_mut(session) {
            Some(owner) if owner.principal.is(claims) => {
                owner.last_seen = Instant::now();
                true
            }
            _ => false,
        }
    }

    /// A session closed by its client, or one rmcp no longer knows.
    pub fn forget(&self, session: &str) {
        let mut table = self.table();
        table.by_session.remove(session);
        metrics::sessions_active(table.by_session.len());
    }
}

impl Table {
    /// Forgets owners idle for longer than rmcp keeps their sessions; at
    /// most every tenth of that limit, as it walks the whole table.
    fn prune(&mut self) {
        if self
            .last_pruned
            .is_none_or(|at| at.elapsed() > OWNER_IDLE_LIMIT / 10)
        {
            self.by_session.retain(|_, owner| owner.is_fresh());
            self.last_pruned = Some(Instant::now());
        }
    }

    fn release(&mut self, principal: &Principal) {
        if let Some(count) = self.creating.get_mut(principal) {
            *count -= 1;
            if *count == 0 {
                self.creating.remove(principal);
            }
        }
    }
}

impl Reservation {
    /// rmcp created `session`: from now on it counts as the caller's.
    pub fn created(mut self, session: &str) {
        let Some(principal) = self.principal.take() else {
            return;
        };
        let mut table = self.sessions.table();
        table.release(&principal);
        table.by_session.insert(
            session.to_owned(),
            Owner {
                principal,
                last_seen: Instant::now(),
            },
        );
        metrics::sessions_active(table.by_session.len());
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(principal) = self.principal.take() {
            self.sessions.table().release(&principal);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn claims(sub: &str) -> Claims {
        Claims {
            sub: sub.to_owned(),
            client_id: Some("client".to_owned()),
            organization_id: None,
            scopes: BTreeSet::new(),
        }
    }

    #[test]
    fn sessions_being_created_count_against_both_caps() {
        let sessions = Arc::new(Sessions::new(2, 3));
        let first = sessions.reserve(&claims("a")).unwrap();
        let _second = sessions.reserve(&claims("a")).unwrap();
        // Neither is created yet, and the principal is full already.
        assert_eq!(
            sessions.reserve(&claims("a")).err(),
            Some(Full::Principal(2))
        );
        first.created("s-1");
        assert!(sessions.owned_by("s-1", &claims("a")));
        assert!(!sessions.owned_by("s-1", &claims("b")));
        let _third = sessions.reserve(&claims("b")).unwrap();
        // Three places taken on the server: anyone else waits.
        assert_eq!(sessions.reserve(&claims("c")).err(), Some(Full::Server(3)));
    }

    #[test]
    fn a_reservation_dropped_unused_or_a_forgotten_session_frees_its_place() {
        let sessions = Arc::new(Sessions::new(1, 10));
        drop(sessions.reserve(&claims("a")).unwrap());
        sessions.reserve(&claims("a")).unwrap().created("s-1");
        assert!(sessions.reserve(&claims("a")).is_err());
        sessions.forget("s-1");
        assert!(sessions.reserve(&claims("a")).is_ok());
    }
}
