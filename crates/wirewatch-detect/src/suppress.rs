//! Suppression rules: drafts an operator has said are expected (the vulnerability scanner, the
//! backup server's nightly burst) are dropped before they become incidents, and counted.
//!
//! Rules are checked once, when the engine is built: a bad address, prefix or kind is an error
//! that names the rule, not a rule that silently never matches.

use crate::{AlertDraft, DetectError, kind};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Drops drafts that match every field given (at least one must be).
///
/// `source` and `destination` are an address or a CIDR prefix (`10.0.0.0/8`, `2001:db8::/32`);
/// they match when *every* source (target) of the draft lies inside, so a DDoS is not hidden
/// because one of its thousand sources is a trusted host.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SuppressRule {
    /// Alert kind, e.g. `port_scan`.
    pub kind: Option<String>,
    /// Source address or prefix.
    pub source: Option<String>,
    /// Destination (target) address or prefix.
    pub destination: Option<String>,
    /// A port the draft must involve.
    pub port: Option<u16>,
}

/// An address prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    len: u8,
}

impl Cidr {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `addr/n`.
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR prefix (e.g. 10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("{s:?}: prefix length must be 0–{max}")),
            },
        };
        Ok(Cidr { addr, len })
    }

    /// Whether `ip` lies inside the prefix (IPv4 and IPv6 never match each other).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compiled {
    kind: Option<&'static str>,
    source: Option<Cidr>,
    destination: Option<Cidr>,
    port: Option<u16>,
}

impl Compiled {
    /// Validates rule number `index` (from 1).
    pub(crate) fn new(index: usize, rule: &SuppressRule) -> Result<Compiled, DetectError> {
        let err = |reason: String| DetectError::Suppress { index, reason };
        if rule.kind.is_none()
            && rule.source.is_none()
            && rule.destination.is_none()
            && rule.port.is_none()
        {
            return Err(err(
                "a rule needs at least one of kind, source, destination, port (an empty rule would drop every alert)".into(),
            ));
        }
        let kind = match &rule.kind {
            None => None,
            Some(k) => Some(
                kind::ALL
                    .iter()
                    .copied()
                    .find(|known| *known == k.trim())
                    .ok_or_else(|| {
                        err(format!(
                            "unknown kind {k:?}; known kinds: {}",
                            kind::ALL.join(", ")
                        ))
                    })?,
            ),
        };
        let cidr = |field: &str, v: &Option<String>| -> Result<Option<Cidr>, DetectError> {
            v.as_deref()
                .map(|s| Cidr::parse(s).map_err(|e| err(format!("{field}: {e}"))))
                .transpose()
        };
        Ok(Compiled {
            kind,
            source: cidr("source", &rule.source)?,
            destination: cidr("destination", &rule.destination)?,
            port: rule.port,
        })
    }

    /// Whether the rule drops `draft`.
    pub(crate) fn matches(&self, draft: &AlertDraft) -> bool {
        let all_in =
            |net: &Cidr, ips: &[IpAddr]| !ips.is_empty() && ips.iter().all(|ip| net.contains(*ip));
        self.kind.is_none_or(|k| k == draft.kind)
            && self
                .source
                .as_ref()
                .is_none_or(|n| all_in(n, &draft.sources))
            && self
                .destination
                .as_ref()
                .is_none_or(|n| all_in(n, &draft.targets))
            && self.port.is_none_or(|p| draft.ports.contains(&p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing_and_matching() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let host = Cidr::parse(" 192.0.2.7 ").unwrap();
        assert!(host.contains("192.0.2.7".parse().unwrap()));
        assert!(!host.contains("192.0.2.8".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:5e::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0/8").is_err());
        assert!(Cidr::parse("example.com").is_err());
    }

    #[test]
    fn bad_rules_name_themselves() {
        let e = Compiled::new(2, &SuppressRule::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("detect.suppress rule #2: a rule needs"),
            "{e}"
        );
        let e = Compiled::new(
            3,
            &SuppressRule {
                source: Some("10.0.0.0/40".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "detect.suppress rule #3: source: \"10.0.0.0/40\": prefix length must be 0–32"
        );
        let e = Compiled::new(
            1,
            &SuppressRule {
                kind: Some("portscan".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown kind \"portscan\""), "{e}");
    }
}
