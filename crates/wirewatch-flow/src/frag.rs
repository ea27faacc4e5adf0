//! Remembers the ports of first fragments so later fragments of the same datagram join its flow.

use foldhash::fast::FixedState;
use hashlink::LinkedHashMap;
use std::net::IpAddr;
use wirewatch_core::Timestamp;

/// At most this many datagrams are tracked at once. Legitimate fragmentation is rare and
/// short-lived; a fragment flood only pushes out the oldest entries.
pub const MAX_TRACKED_DATAGRAMS: usize = 16_384;

/// Fragments of one datagram arrive within this many nanoseconds (Linux's `ipfrag_time`, 30 s).
const FRAGMENT_LIFETIME_NS: u64 = 30_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DatagramId {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

/// A bounded map from datagram identity to the ports of its first fragment.
#[derive(Debug)]
pub struct FragmentPorts {
    map: LinkedHashMap<DatagramId, (u16, u16, Timestamp), FixedState>,
    /// Entries pushed out because the map was full.
    pub evicted: u64,
}

impl Default for FragmentPorts {
    fn default() -> Self {
        FragmentPorts {
            map: LinkedHashMap::with_hasher(FixedState::default()),
            evicted: 0,
        }
    }
}

impl FragmentPorts {
    /// Records the ports of a first fragment.
    pub fn remember(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        id: u32,
        ports: (u16, u16),
        ts: Timestamp,
    ) {
        let key = DatagramId {
            src,
            dst,
            proto,
            id,
        };
        self.map.insert(key, (ports.0, ports.1, ts));
        while self.map.len() > MAX_TRACKED_DATAGRAMS {
            self.map.pop_front();
            self.evicted += 1;
        }
    }

    /// The ports of the datagram a later fragment belongs to, if its first fragment was seen
    /// recently.
    pub fn lookup(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        id: u32,
        ts: Timestamp,
    ) -> Option<(u16, u16)> {
        let key = DatagramId {
            src,
            dst,
            proto,
            id,
        };
        match self.map.get(&key) {
            Some(&(sp, dp, seen)) if ts.since(seen) <= FRAGMENT_LIFETIME_NS => Some((sp, dp)),
            _ => None,
        }
    }

    /// Number of datagrams tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
