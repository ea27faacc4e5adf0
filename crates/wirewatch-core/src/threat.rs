//! Reputation of addresses: what threat intelligence (offline blocklists, AbuseIPDB) says about
//! an address, and the event of a local host talking to one with a bad name.
//!
//! Owns the vocabulary only; loading lists and querying AbuseIPDB is the intel crate's job,
//! turning hits into alerts the threat-intel detector's. Strings here come from list files or
//! the AbuseIPDB answer: render them as text.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Where a verdict about an address came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ThreatSource {
    /// An entry of an offline blocklist.
    Blocklist {
        /// The list's name (its file name unless configured).
        list: String,
        /// The matching entry (address or CIDR).
        entry: String,
        /// The list's reference for the entry (e.g. `SBL123456`), if it has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// An AbuseIPDB `check` answer (its `abuseConfidenceScore` is the reputation's `score`).
    Abuseipdb {
        /// ISO country code.
        #[serde(skip_serializing_if = "Option::is_none")]
        country_code: Option<String>,
        /// Country name.
        #[serde(skip_serializing_if = "Option::is_none")]
        country_name: Option<String>,
        /// The network's ISP.
        #[serde(skip_serializing_if = "Option::is_none")]
        isp: Option<String>,
        /// Usage type (e.g. `Data Center/Web Hosting/Transit`).
        #[serde(skip_serializing_if = "Option::is_none")]
        usage_type: Option<String>,
        /// Domain of the network.
        #[serde(skip_serializing_if = "Option::is_none")]
        domain: Option<String>,
        /// Reports in the looked-up period.
        total_reports: u64,
    },
}

/// What is known about one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressReputation {
    /// The address.
    pub ip: IpAddr,
    /// 0–100: AbuseIPDB's confidence of abuse; 100 for a blocklist entry.
    pub score: u8,
    /// Where it came from.
    #[serde(flatten)]
    pub source: ThreatSource,
}

impl AddressReputation {
    /// Short text for tables: `blocklist spamhaus-drop (1.2.3.0/24)` or `abuseipdb 87`.
    pub fn summary(&self) -> String {
        match &self.source {
            ThreatSource::Blocklist { list, entry, .. } => format!("blocklist {list} ({entry})"),
            ThreatSource::Abuseipdb { .. } => format!("abuseipdb {}", self.score),
        }
    }

    /// The source's short name: `blocklist` or `abuseipdb`.
    pub fn source_name(&self) -> &'static str {
        match self.source {
            ThreatSource::Blocklist { .. } => "blocklist",
            ThreatSource::Abuseipdb { .. } => "abuseipdb",
        }
    }
}

/// A local host exchanged traffic with an address that has a reputation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreatHit {
    /// Packet time of the flow that showed it.
    pub ts: Timestamp,
    /// The local (or, failing that, the other) end of the flow.
    pub local: IpAddr,
    /// The address with the reputation.
    pub remote: IpAddr,
    /// The remote port of the flow (0 when it has none).
    pub remote_port: u16,
    /// Whether the local host opened the connection (outbound) rather than received it.
    pub outbound: bool,
    /// What is known about `remote`.
    pub reputation: AddressReputation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reputations_serialize_flat_with_their_source() {
        let r = AddressReputation {
            ip: IpAddr::from([203, 0, 113, 9]),
            score: 100,
            source: ThreatSource::Blocklist {
                list: "drop".into(),
                entry: "203.0.113.0/24".into(),
                reference: Some("SBL1".into()),
            },
        };
        let j = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(j["source"], "blocklist");
        assert_eq!(j["list"], "drop");
        assert_eq!(r.summary(), "blocklist drop (203.0.113.0/24)");
        let back: AddressReputation = serde_json::from_value(j).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, r);
        let a = AddressReputation {
            ip: IpAddr::from([198, 51, 100, 1]),
            score: 77,
            source: ThreatSource::Abuseipdb {
                country_code: Some("NL".into()),
                country_name: None,
                isp: None,
                usage_type: None,
                domain: None,
                total_reports: 3,
            },
        };
        let text = serde_json::to_string(&a).unwrap_or_default();
        assert_eq!(text.matches("\"score\"").count(), 1, "{text}");
        let back: AddressReputation = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, a);
        assert_eq!(a.summary(), "abuseipdb 77");
    }
}
