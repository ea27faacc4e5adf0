//! Distinct destination ports of one interval, counted exactly in two fixed bitmaps.
//!
//! A port number has only 65,536 values, so one bit per port (8 KiB per transport) counts
//! distinct ports exactly at any rate, with a constant memory and a per-packet cost of one
//! load, one test and one store — cheaper than a hash set and never approximate, so no cap or
//! sketch is needed. Clearing touches the 16 KiB only when something was counted. It must not
//! look at anything but the port numbers it is given.

/// 64-bit words in one bitmap of all 65,536 ports.
const WORDS: usize = (u16::MAX as usize + 1) / 64;

/// Which transport a port belongs to: TCP port 53 and UDP port 53 are different services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProto {
    /// A TCP port.
    Tcp,
    /// A UDP port.
    Udp,
}

/// The set of (transport, port) pairs seen, with its size kept as ports are added.
#[derive(Debug, Clone)]
pub struct PortSet {
    tcp: Box<[u64; WORDS]>,
    udp: Box<[u64; WORDS]>,
    distinct: u64,
}

impl Default for PortSet {
    fn default() -> Self {
        PortSet {
            tcp: Box::new([0; WORDS]),
            udp: Box::new([0; WORDS]),
            distinct: 0,
        }
    }
}

impl PortSet {
    /// Adds `port` of `proto`; returns whether it was new.
    #[inline]
    pub fn insert(&mut self, proto: PortProto, port: u16) -> bool {
        let map = match proto {
            PortProto::Tcp => &mut self.tcp,
            PortProto::Udp => &mut self.udp,
        };
        let bit = 1u64 << (port & 63);
        match map.get_mut(usize::from(port >> 6)) {
            Some(word) if *word & bit == 0 => {
                *word |= bit;
                self.distinct += 1;
                true
            }
            _ => false,
        }
    }

    /// Whether `port` of `proto` was added.
    pub fn contains(&self, proto: PortProto, port: u16) -> bool {
        let map = match proto {
            PortProto::Tcp => &self.tcp,
            PortProto::Udp => &self.udp,
        };
        map.get(usize::from(port >> 6))
            .is_some_and(|w| w & (1u64 << (port & 63)) != 0)
    }

    /// Distinct (transport, port) pairs added since the last clear (exact).
    pub fn distinct(&self) -> u64 {
        self.distinct
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        if self.distinct > 0 {
            self.tcp.fill(0);
            self.udp.fill(0);
            self.distinct = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_pair_once_and_keeps_transports_apart() {
        let mut s = PortSet::default();
        assert!(s.insert(PortProto::Tcp, 80));
        assert!(!s.insert(PortProto::Tcp, 80));
        assert!(s.insert(PortProto::Udp, 80));
        assert!(s.insert(PortProto::Tcp, 0));
        assert!(s.insert(PortProto::Tcp, u16::MAX));
        assert_eq!(s.distinct(), 4);
        assert!(s.contains(PortProto::Udp, 80));
        assert!(!s.contains(PortProto::Udp, 443));
        s.clear();
        assert_eq!(s.distinct(), 0);
        assert!(!s.contains(PortProto::Tcp, 80));
    }

    #[test]
    fn every_port_fits() {
        let mut s = PortSet::default();
        for p in 0..=u16::MAX {
            s.insert(PortProto::Tcp, p);
            s.insert(PortProto::Udp, p);
            s.insert(PortProto::Tcp, p);
        }
        assert_eq!(s.distinct(), 2 * 65_536);
    }
}
