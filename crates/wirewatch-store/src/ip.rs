//! Addresses as 16-byte BLOBs: IPv6 as is, IPv4 mapped into `::ffff:0:0/96`.
//!
//! SQLite compares BLOBs with `memcmp`, so byte order is numeric order and a CIDR filter is a
//! plain `BETWEEN lo AND hi` on an index, for both families. The price: a real IPv6 packet
//! carrying a v4-mapped address reads back as the IPv4 address (such packets are not routed
//! on the wire, so this loses nothing in practice).

use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// The 16-byte form of an address (IPv4 mapped into `::ffff:0:0/96`).
pub fn ip_to_blob(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The address of a 16-byte BLOB (`None` for any other length).
pub fn blob_to_ip(blob: &[u8]) -> Option<IpAddr> {
    let octets: [u8; 16] = blob.try_into().ok()?;
    let v6 = Ipv6Addr::from(octets);
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

/// The lowest and highest BLOB of a network (inclusive).
pub(crate) fn net_range(net: &IpNet) -> ([u8; 16], [u8; 16]) {
    (ip_to_blob(net.network()), ip_to_blob(net.broadcast()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        for s in [
            "192.0.2.7",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8::1",
            "::",
            "::1",
        ] {
            let ip: IpAddr = s.parse().unwrap();
            assert_eq!(blob_to_ip(&ip_to_blob(ip)), Some(ip));
        }
        let a = ip_to_blob("10.0.0.9".parse().unwrap());
        let b = ip_to_blob("10.0.1.0".parse().unwrap());
        assert!(a < b);
        assert_eq!(blob_to_ip(&[1, 2, 3]), None);
        let (lo, hi) = net_range(&"10.0.0.0/8".parse().unwrap());
        assert_eq!(blob_to_ip(&lo), Some("10.0.0.0".parse().unwrap()));
        assert_eq!(blob_to_ip(&hi), Some("10.255.255.255".parse().unwrap()));
        let (lo, hi) = net_range(&"2001:db8::/32".parse().unwrap());
        assert_eq!(blob_to_ip(&lo), Some("2001:db8::".parse().unwrap()));
        assert_eq!(
            blob_to_ip(&hi),
            Some("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap())
        );
    }
}
