//! Host names for addresses, learned passively from DNS answers seen on the wire.
//!
//! Owns a bounded least-recently-used map from address to the name that was asked for when an
//! answer carried that address. Wirewatch never resolves anything itself: a name is known only
//! if some host on the monitored network looked it up while we watched.

use foldhash::fast::FixedState;
use hashlink::LruCache;
use std::net::IpAddr;

/// Learned names: address → name, least recently learned or used evicted first.
pub struct HostNames {
    map: LruCache<IpAddr, Box<str>, FixedState>,
    /// Names learned (inserted or replaced).
    pub learned: u64,
    /// Entries pushed out because the cache was full.
    pub evicted: u64,
}

impl HostNames {
    /// An empty cache holding at most `cap` addresses (0 disables learning).
    pub fn new(cap: usize) -> Self {
        HostNames {
            map: LruCache::with_hasher(cap, FixedState::default()),
            learned: 0,
            evicted: 0,
        }
    }

    /// Remembers that `ip` answered for `name` (already escaped text).
    pub fn learn(&mut self, ip: IpAddr, name: &str) {
        if self.map.capacity() == 0 || name.is_empty() {
            return;
        }
        if let Some(old) = self.map.get(&ip)
            && &**old == name
        {
            return;
        }
        if !self.map.contains_key(&ip) && self.map.len() >= self.map.capacity() {
            self.evicted += 1;
        }
        self.map.insert(ip, name.into());
        self.learned += 1;
    }

    /// The name learned for `ip`, without refreshing its place in the eviction order.
    pub fn get(&self, ip: IpAddr) -> Option<&str> {
        self.map.peek(&ip).map(|n| &**n)
    }

    /// Addresses with a learned name.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no name was learned.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn learns_replaces_and_evicts_the_least_recent() {
        let mut h = HostNames::new(2);
        h.learn(ip("192.0.2.1"), "a.example");
        h.learn(ip("192.0.2.2"), "b.example");
        h.learn(ip("192.0.2.1"), "a.example"); // same: no change, still counted once
        assert_eq!(h.learned, 2);
        h.learn(ip("192.0.2.1"), "c.example");
        assert_eq!(h.get(ip("192.0.2.1")), Some("c.example"));
        h.learn(ip("192.0.2.3"), "d.example");
        assert_eq!(h.evicted, 1);
        assert_eq!(
            h.get(ip("192.0.2.2")),
            None,
            "the least recently learned goes"
        );
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn zero_capacity_learns_nothing() {
        let mut h = HostNames::new(0);
        h.learn(ip("192.0.2.1"), "a.example");
        assert!(h.is_empty());
        assert_eq!(h.get(ip("192.0.2.1")), None);
    }
}
