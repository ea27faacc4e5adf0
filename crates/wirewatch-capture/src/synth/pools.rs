//! The generator's address plan: fixed pools of clients, servers and resolvers, their MACs and
//! client ports, and exact distinct-address counting in bounded memory.
//!
//! Every address the generator sends from or to is a numbered member of a pool, so "distinct
//! source addresses" is a bitset over pool numbers: exact, and sized by the pools, never by the
//! number of packets.
//!
//! Address ranges: IPv4 clients in 10.0.1.1 onwards (a private LAN whose gateway is 10.0.0.1 and
//! resolvers 10.0.0.53/54), IPv4 servers in 198.18.0.0/15 (reserved for benchmarking, RFC 2544),
//! IPv6 in 2001:db8::/32 (documentation, RFC 3849).

use super::build::MacAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Largest pool; keeps every bitset and port table under a few hundred kilobytes.
const MAX_POOL: u64 = 60_000;
/// Resolvers per address family.
const RESOLVERS: u32 = 2;
/// Client ports per client before a new flow moves to another client (1024..=65535).
const PORTS_PER_CLIENT: u32 = 64_512;

/// The MAC of the LAN's default gateway, the link-layer peer of every server.
pub const GATEWAY_MAC: MacAddr = [0x02, 0x42, 0xac, 0x11, 0x00, 0x01];
/// The IPv4 address of the gateway (the target of the generated ARP requests).
pub const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// Which pool an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A host on the LAN that opens connections.
    Client,
    /// A remote host that accepts them.
    Server,
    /// A DNS resolver on the LAN.
    Resolver,
}

/// The address pools, numbered contiguously: v4 clients, v4 servers, v6 clients, v6 servers,
/// v4 resolvers, v6 resolvers.
#[derive(Debug, Clone)]
pub struct Pools {
    /// First id of each pool, plus the total at the end.
    bounds: [u32; 7],
    /// Flows started by each client (for unique client ports).
    client_flows: Vec<u32>,
    src_seen: Vec<u64>,
    dst_seen: Vec<u64>,
    /// Distinct source addresses so far.
    pub distinct_src: u64,
    /// Distinct destination addresses so far.
    pub distinct_dst: u64,
}

impl Pools {
    /// Pools sized for about `flows` flows.
    pub fn new(flows: u64) -> Self {
        let size = |div: u64, min: u64| (flows / div).clamp(min, MAX_POOL) as u32;
        let sizes = [
            size(4, 16),
            size(8, 8),
            size(16, 4),
            size(32, 4),
            RESOLVERS,
            RESOLVERS,
        ];
        let mut bounds = [0u32; 7];
        for (i, s) in sizes.iter().enumerate() {
            bounds[i + 1] = bounds[i] + s;
        }
        let total = bounds[6] as usize;
        let clients = (sizes[0] + sizes[2]) as usize;
        Pools {
            bounds,
            client_flows: vec![0; clients],
            src_seen: vec![0; total.div_ceil(64)],
            dst_seen: vec![0; total.div_ceil(64)],
            distinct_src: 0,
            distinct_dst: 0,
        }
    }

    fn pool_index(role: Role, v6: bool) -> usize {
        match (role, v6) {
            (Role::Client, false) => 0,
            (Role::Server, false) => 1,
            (Role::Client, true) => 2,
            (Role::Server, true) => 3,
            (Role::Resolver, false) => 4,
            (Role::Resolver, true) => 5,
        }
    }

    /// Number of addresses in a pool.
    pub fn len(&self, role: Role, v6: bool) -> u32 {
        let i = Self::pool_index(role, v6);
        self.bounds[i + 1] - self.bounds[i]
    }

    /// The id of member `index` (taken modulo the pool size) of a pool.
    pub fn id(&self, role: Role, v6: bool, index: u64) -> u32 {
        let i = Self::pool_index(role, v6);
        let len = u64::from(self.bounds[i + 1] - self.bounds[i]);
        self.bounds[i] + (index % len.max(1)) as u32
    }

    /// The pool and index within it of an id.
    fn locate(&self, id: u32) -> (usize, u32) {
        let mut i = 0;
        while i < 5 && id >= self.bounds[i + 1] {
            i += 1;
        }
        (i, id - self.bounds[i])
    }

    /// Whether the address `id` is IPv6.
    #[cfg(test)]
    pub fn is_v6(&self, id: u32) -> bool {
        matches!(self.locate(id).0, 2 | 3 | 5)
    }

    /// The IP address of `id`.
    pub fn addr(&self, id: u32) -> IpAddr {
        let (pool, n) = self.locate(id);
        match pool {
            0 => {
                let host = 1 + n % 254; // skip .0 and .255
                let net = 1 + n / 254; // 10.0.0.0/24 is the infrastructure subnet
                IpAddr::V4(Ipv4Addr::new(10, (net >> 8) as u8, net as u8, host as u8))
            }
            1 => {
                // A bijection on 17 bits spreads the servers over 198.18.0.0/15.
                let x = n.wrapping_mul(0x9e35).wrapping_add(0x1234) & 0x1_ffff;
                IpAddr::V4(Ipv4Addr::from(0xc612_0000 | x))
            }
            2 => IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0x100,
                0,
                0,
                0,
                (n >> 16) as u16,
                (n as u16).wrapping_add(1),
            )),
            3 => {
                let x = n.wrapping_mul(0x9e37_79b1);
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0x5e,
                    (n >> 8) as u16,
                    0,
                    0,
                    (x >> 16) as u16,
                    x as u16,
                ))
            }
            4 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, 53 + n as u8)),
            _ => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x53, 0, 0, 0, 0, n as u16 + 1)),
        }
    }

    /// The MAC an address is reached at on the LAN: its own for clients and resolvers, the
    /// gateway's for servers.
    pub fn mac(&self, id: u32) -> MacAddr {
        match self.locate(id).0 {
            1 | 3 => GATEWAY_MAC,
            _ => {
                let b = id.to_be_bytes();
                [0x02, 0x00, b[0], b[1], b[2], b[3]]
            }
        }
    }

    /// A client port for a new flow of `client`, unique among all flows of that client. After
    /// 64,512 flows a client is full and the flow moves to the next client (the returned id);
    /// only when every client is full do ports repeat.
    pub fn alloc_port(&mut self, client: u32) -> (u32, u16) {
        let (pool, _) = self.locate(client);
        let v6 = pool == 2;
        let first = self.id(Role::Client, v6, 0);
        let len = self.len(Role::Client, v6);
        let mut id = client;
        for _ in 0..len {
            let slot = self.client_slot(id);
            if self.client_flows[slot] < PORTS_PER_CLIENT {
                break;
            }
            id = first + (id - first + 1) % len;
        }
        let slot = self.client_slot(id);
        let count = self.client_flows[slot];
        self.client_flows[slot] = count.wrapping_add(1);
        // Start each client at its own point of the Linux ephemeral range (32768..60999).
        let base = 31_744 + (id.wrapping_mul(0x9e37_79b1) >> 8) % 28_232;
        (id, (1024 + (base + count) % PORTS_PER_CLIENT) as u16)
    }

    fn client_slot(&self, id: u32) -> usize {
        let (pool, n) = self.locate(id);
        if pool == 2 {
            (self.len(Role::Client, false) + n) as usize
        } else {
            n as usize
        }
    }

    /// Records one packet from `src` to `dst` for the distinct-address counts.
    #[inline]
    pub fn see(&mut self, src: u32, dst: u32) {
        if mark(&mut self.src_seen, src) {
            self.distinct_src += 1;
        }
        if mark(&mut self.dst_seen, dst) {
            self.distinct_dst += 1;
        }
    }
}

/// Sets bit `i`; true if it was clear.
#[inline]
fn mark(bits: &mut [u64], i: u32) -> bool {
    let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
    match bits.get_mut(word) {
        Some(w) if *w & bit == 0 => {
            *w |= bit;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn addresses_are_distinct_and_in_their_ranges() {
        let pools = Pools::new(1_000_000);
        let total = pools.bounds[6];
        let all: HashSet<IpAddr> = (0..total).map(|id| pools.addr(id)).collect();
        assert_eq!(all.len(), total as usize);
        let server = pools.addr(pools.id(Role::Server, false, 12345));
        match server {
            IpAddr::V4(a) => assert_eq!(a.octets()[..1], [198]),
            IpAddr::V6(_) => panic!("v4 server expected"),
        }
        assert!(pools.is_v6(pools.id(Role::Resolver, true, 0)));
        assert!(!pools.is_v6(pools.id(Role::Resolver, false, 1)));
    }

    #[test]
    fn client_ports_never_repeat_until_every_client_is_full() {
        let mut pools = Pools::new(0);
        let client = pools.id(Role::Client, true, 0);
        let mut seen = HashSet::new();
        for _ in 0..(PORTS_PER_CLIENT * 2 + 10) {
            let (id, port) = pools.alloc_port(client);
            assert!(pools.is_v6(id));
            assert!(port >= 1024);
            assert!(seen.insert((id, port)));
        }
    }
}
