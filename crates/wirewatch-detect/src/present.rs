//! How findings are written: numbers formatted for messages ("4,012 SYNs/s", "61.3 Mbit/s",
//! "5%"), endpoints and services. Scoring is [`crate::policy`]'s.

use std::net::IpAddr;

/// An integer with thousands separators: `4012` → `4,012`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 host`, `4,012 hosts`.
pub(crate) fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{} {word}s", count(n))
    }
}

/// A rate: whole numbers with separators from 10 up, one decimal below.
pub(crate) fn rate(x: f64) -> String {
    if !x.is_finite() || x < 0.0 {
        return "0".into();
    }
    if x >= 10.0 {
        count(x.round() as u64)
    } else {
        format!("{x:.1}")
    }
}

/// Bits per second in the largest unit that keeps the number at least 1.
pub(crate) fn bits(bps: f64) -> String {
    let bps = if bps.is_finite() { bps.max(0.0) } else { 0.0 };
    if bps >= 1e9 {
        format!("{:.2} Gbit/s", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.1} Mbit/s", bps / 1e6)
    } else if bps >= 1e3 {
        format!("{:.1} kbit/s", bps / 1e3)
    } else {
        format!("{bps:.0} bit/s")
    }
}

/// A share 0–1 as a percentage: "5%", "0.3%" below 1 %.
pub(crate) fn pct(share: f64) -> String {
    let p = if share.is_finite() {
        share * 100.0
    } else {
        0.0
    };
    if p > 0.0 && p < 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// A list of ports, `22, 80, 443`, cut after `max` with "…".
pub(crate) fn port_list(ports: &[u16], max: usize) -> String {
    let mut s: Vec<String> = ports.iter().take(max).map(u16::to_string).collect();
    if ports.len() > max {
        s.push("…".into());
    }
    s.join(", ")
}

/// The usual service on a port, for messages.
pub(crate) fn service(port: u16) -> Option<&'static str> {
    Some(match port {
        21 => "ftp",
        22 => "ssh",
        23 => "telnet",
        25 => "smtp",
        53 => "dns",
        80 | 8080 => "http",
        110 => "pop3",
        143 => "imap",
        443 => "https",
        445 => "smb",
        993 => "imaps",
        995 => "pop3s",
        3389 => "rdp",
        _ => return None,
    })
}

/// `10.1.0.20:80`, `[2001:db8::1]:443`, or the bare address when there is no port.
pub(crate) fn endpoint(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V4(a), Some(p)) => format!("{a}:{p}"),
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (ip, None) => ip.to_string(),
    }
}

/// Whether an address is inside the organisation (private, shared, link-local, ULA): a scan
/// from such a host may be a compromised machine rather than the internet's background noise.
pub(crate) fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (o[0] == 100 && o[1] & 0xc0 == 64)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(4012), "4,012");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(rate(4011.6), "4,012");
        assert_eq!(rate(3.25), "3.2");
        assert_eq!(bits(61_300_000.0), "61.3 Mbit/s");
        assert_eq!(bits(2.5e9), "2.50 Gbit/s");
        assert_eq!(pct(0.05), "5%");
        assert_eq!(pct(0.003), "0.3%");
        assert_eq!(port_list(&[22, 80, 443], 2), "22, 80, …");
        assert_eq!(
            endpoint(
                "10.1.0.20".parse().unwrap_or(IpAddr::from([0; 4])),
                Some(80)
            ),
            "10.1.0.20:80"
        );
    }

    #[test]
    fn internal_addresses() {
        for (ip, internal) in [
            ("10.1.0.5", true),
            ("192.168.1.1", true),
            ("100.64.3.4", true),
            ("203.0.113.66", false),
            ("fd00::1", true),
            ("2001:db8::1", false),
        ] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::from([0; 4]));
            assert_eq!(is_internal(ip), internal, "{ip}");
        }
    }
}
