//! The failed-auth limiter: forged tokens counted per client network, in
//! fixed one-minute windows. It only decides how an invalid token is
//! answered (401 or 429); a valid token is never refused.
//!
//! One IPv4 address is one client; in IPv6 a client usually holds a whole
//! /64, so its addresses share one count. The table is bounded: when it is
//! full of live windows, new networks share one more count, so a flood of
//! addresses is limited as one rather than not at all.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    sync::Mutex,
    time::{Duration, Instant},
};

pub const WINDOW: Duration = Duration::from_secs(60);
/// Networks tracked at once, about 50 bytes each.
pub const MAX_NETWORKS: usize = 10_000;

pub struct FailureLimiter {
    /// Failures a network may have per window before it is limited.
    limit: u32,
    capacity: usize,
    windows: Mutex<Windows>,
}

struct Windows {
    by_network: HashMap<IpAddr, Window>,
    /// Shared by every network that came while the table was full.
    overflow: Window,
}

struct Window {
    started: Instant,
    failures: u32,
}

impl FailureLimiter {
    pub fn new(limit: u32, capacity: usize) -> Self {
        Self {
            limit,
            capacity,
            windows: Mutex::new(Windows {
                by_network: HashMap::new(),
                overflow: Window::new(),
            }),
        }
    }

    /// Counts a failure from `address`; whether its network is now over the
    /// limit (the failure is then answered with 429).
    pub fn fail(&self, address: IpAddr) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.of(network(address), self.capacity);
        if window.started.elapsed() >= WINDOW {
            *window = Window::new();
        }
        window.failures = window.failures.saturating_add(1);
        window.failures > self.limit
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.by_network.len()
    }
}

impl Windows {
    /// The network's window; the shared one while the table is full of live
    /// windows.
    fn of(&mut self, network: IpAddr, capacity: usize) -> &mut Window {
        if !self.by_network.contains_key(&network) && self.by_network.len() >= capacity {
            self.by_network
                .retain(|_, window| window.started.elapsed() < WINDOW);
            if self.by_network.len() >= capacity {
                return &mut self.overflow;
            }
        }
        self.by_network.entry(network).or_insert_with(Window::new)
    }
}

impl Window {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            failures: 0,
        }
    }
}

/// The network `address` is counted in: itself for IPv4 (and IPv4-mapped
/// IPv6), its /64 for IPv6.
fn network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Whether each failure from `address`, in turn, was over the limit.
    fn fails(limiter: &FailureLimiter, address: &str, times: usize) -> Vec<bool> {
        (0..times).map(|_| limiter.fail(ip(address))).collect()
    }

    #[test]
    fn the_failure_after_the_limit_is_limited() {
        let limiter = FailureLimiter::new(2, MAX_NETWORKS);
        assert_eq!(fails(&limiter, "192.0.2.1", 4), [false, false, true, true]);
        // Another address has its own budget.
        assert_eq!(fails(&limiter, "192.0.2.2", 1), [false]);
    }

    #[test]
    fn addresses_of_one_ipv6_64_share_a_budget_and_other_networks_do_not() {
        let limiter = FailureLimiter::new(2, MAX_NETWORKS);
        let over: Vec<bool> = (1..=8)
            .map(|host| limiter.fail(ip(&format!("2001:db8:1:2::{host:x}"))))
            .collect();
        assert_eq!(over, [false, false, true, true, true, true, true, true]);
        assert_eq!(fails(&limiter, "2001:db8:1:3::1", 1), [false]);
        // An IPv4 address written as IPv4-mapped IPv6 is that IPv4 address.
        assert_eq!(fails(&limiter, "192.0.2.9", 2), [false, false]);
        assert_eq!(fails(&limiter, "::ffff:192.0.2.9", 1), [true]);
    }

    #[test]
    fn when_the_table_is_full_new_networks_share_one_budget() {
        let limiter = FailureLimiter::new(2, 3);
        for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            assert_eq!(fails(&limiter, address, 1), [false]);
        }
        // Three new addresses, one failure each: counted together.
        assert_eq!(
            ["198.51.100.1", "198.51.100.2", "2001:db8::1"].map(|a| limiter.fail(ip(a))),
            [false, false, true]
        );
        assert_eq!(fails(&limiter, "203.0.113.7", 1), [true]);
        assert_eq!(limiter.tracked(), 3, "the table stays bounded");
        // Addresses already tracked keep their own budgets.
        assert_eq!(fails(&limiter, "192.0.2.1", 1), [false]);
    }
}
