//! `Reputation`: what threat intelligence says about one address, whichever source said it.
//!
//! Owns the record the look-up service hands to the engine, caches as JSON, and the
//! detector turns into an alert. It must not decide whether to alert beyond
//! [`Reputation::is_malicious`] (the threshold is the detector's configuration) and must not
//! do I/O.

use crate::blocklist::Match;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirewatch_core::{AddressReputation, ThreatSource};
use wirewatch_store::CachedIntel;

/// Where a reputation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An AbuseIPDB `check` answer.
    AbuseIpdb,
    /// An offline blocklist entry.
    Blocklist,
}

impl Source {
    /// The snake_case name (the `source` column of the cache).
    pub fn name(self) -> &'static str {
        match self {
            Source::AbuseIpdb => "abuseipdb",
            Source::Blocklist => "blocklist",
        }
    }
}

/// Score given to an address found on a blocklist: a list entry is a verdict, not a
/// probability, so it counts as fully confident.
pub const BLOCKLIST_SCORE: u8 = 100;

/// What is known about one address, exactly as its source said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reputation {
    /// The address.
    pub ip: IpAddr,
    /// Who said it.
    pub source: Source,
    /// Abuse confidence, 0–100 (AbuseIPDB's `abuseConfidenceScore`; 100 for a blocklist hit).
    pub score: u8,
    /// ISO 3166 country code (`countryCode`).
    #[serde(default)]
    pub country_code: Option<String>,
    /// Country name (`countryName`, sent when the request is verbose).
    #[serde(default)]
    pub country_name: Option<String>,
    /// Usage type, e.g. "Data Center/Web Hosting/Transit" (`usageType`).
    #[serde(default)]
    pub usage_type: Option<String>,
    /// The network's ISP (`isp`).
    #[serde(default)]
    pub isp: Option<String>,
    /// The ISP's domain (`domain`).
    #[serde(default)]
    pub domain: Option<String>,
    /// Reverse-DNS names (`hostnames`).
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Reports in the look-up window (`totalReports`).
    #[serde(default)]
    pub total_reports: u64,
    /// Distinct reporters (`numDistinctUsers`).
    #[serde(default)]
    pub distinct_users: u64,
    /// When it was last reported, as the source wrote it (`lastReportedAt`, ISO 8601).
    #[serde(default)]
    pub last_reported_at: Option<String>,
    /// Whether it is a Tor exit node (`isTor`).
    #[serde(default)]
    pub is_tor: bool,
    /// Whether the source whitelists it (`isWhitelisted`; unknown when absent).
    #[serde(default)]
    pub is_whitelisted: Option<bool>,
    /// The blocklist that listed it (blocklist source only).
    #[serde(default)]
    pub list: Option<String>,
    /// The list's entry that matched, e.g. `1.10.16.0/20` (blocklist only).
    #[serde(default)]
    pub entry: Option<String>,
    /// The list's reference for the entry, e.g. `SBL256894` (blocklist only, if it has one).
    #[serde(default)]
    pub reference: Option<String>,
    /// When it was fetched, in seconds since the Unix epoch (wall clock).
    pub fetched_at_unix: u64,
}

impl Reputation {
    /// Whether the score is above `threshold` (strictly: with the default threshold of 50, a
    /// score of 50 is not malicious, 51 is).
    pub fn is_malicious(&self, threshold: u8) -> bool {
        self.score > threshold
    }

    /// The reputation of an address found on a blocklist.
    pub fn from_blocklist(ip: IpAddr, m: &Match, fetched_at_unix: u64) -> Reputation {
        Reputation {
            ip,
            source: Source::Blocklist,
            score: BLOCKLIST_SCORE,
            country_code: None,
            country_name: None,
            usage_type: None,
            isp: None,
            domain: None,
            hostnames: Vec::new(),
            total_reports: 0,
            distinct_users: 0,
            last_reported_at: None,
            is_tor: false,
            is_whitelisted: None,
            list: Some(m.list.to_string()),
            entry: Some(m.net.to_string()),
            reference: m.reference.as_deref().map(str::to_string),
            fetched_at_unix,
        }
    }

    /// The database cache row of this answer, fetched at `fetched` (since the Unix epoch) and
    /// fresh for `ttl`.
    pub fn cache_entry(
        &self,
        fetched: std::time::Duration,
        ttl: std::time::Duration,
    ) -> serde_json::Result<CachedIntel> {
        let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Ok(CachedIntel {
            source: self.source.name().to_string(),
            score: self.score,
            data: serde_json::to_string(self)?,
            fetched_ts: nanos(fetched),
            expires_ts: nanos(fetched.saturating_add(ttl)),
        })
    }

    /// The shared vocabulary's form ([`wirewatch_core::AddressReputation`]) that alerts, the
    /// store and the web layer carry.
    pub fn to_core(&self) -> AddressReputation {
        let source = match self.source {
            Source::Blocklist => ThreatSource::Blocklist {
                list: self.list.clone().unwrap_or_default(),
                entry: self.entry.clone().unwrap_or_else(|| self.ip.to_string()),
                reference: self.reference.clone(),
            },
            Source::AbuseIpdb => ThreatSource::Abuseipdb {
                country_code: self.country_code.clone(),
                country_name: self.country_name.clone(),
                isp: self.isp.clone(),
                usage_type: self.usage_type.clone(),
                domain: self.domain.clone(),
                total_reports: self.total_reports,
            },
        };
        AddressReputation {
            ip: self.ip,
            score: self.score,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::sync::Arc;

    #[test]
    fn threshold_is_strict_and_json_round_trips() {
        let m = Match {
            list: Arc::from("drop"),
            net: "1.10.16.0/20".parse().unwrap(),
            reference: Some(Arc::from("SBL256894")),
        };
        let mut r = Reputation::from_blocklist("1.10.16.7".parse().unwrap(), &m, 1_700_000_000);
        assert_eq!(r.entry.as_deref(), Some("1.10.16.0/20"));
        assert_eq!(r.reference.as_deref(), Some("SBL256894"));
        let core = r.to_core();
        assert_eq!(core.summary(), "blocklist drop (1.10.16.0/20)");
        assert_eq!(
            core.source,
            ThreatSource::Blocklist {
                list: "drop".into(),
                entry: "1.10.16.0/20".into(),
                reference: Some("SBL256894".into()),
            }
        );
        assert!(r.is_malicious(50));
        assert!(r.is_malicious(99));
        assert!(!r.is_malicious(100));
        r.score = 50;
        assert!(!r.is_malicious(50));
        r.score = 51;
        assert!(r.is_malicious(50));
        let mut a = r.clone();
        a.source = Source::AbuseIpdb;
        a.score = 87;
        a.country_code = Some("NL".into());
        a.total_reports = 12;
        let core = a.to_core();
        assert_eq!(core.summary(), "abuseipdb 87");
        assert!(matches!(
            core.source,
            ThreatSource::Abuseipdb { total_reports: 12, ref country_code, .. }
                if country_code.as_deref() == Some("NL")
        ));
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"source\":\"blocklist\""), "{json}");
        assert_eq!(serde_json::from_str::<Reputation>(&json).unwrap(), r);
    }
}
