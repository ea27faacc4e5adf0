//! `wirewatch intel check IP`: what Wirewatch knows about an address — the blocklists that
//! list it, and the AbuseIPDB verdict from the cache or, with a key, asked now (and cached).

use crate::cli::{CheckArgs, IntelArgs, IntelCommand};
use anyhow::Context;
use serde::Serialize;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wirewatch_core::AddressReputation;
use wirewatch_intel::reserved::reserved_reason;
use wirewatch_intel::{AbuseIpdbClient, Blocklists, IntelCache, Reputation};

/// What `intel check` found.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// The address.
    pub ip: IpAddr,
    /// Whether it is a public address (private and reserved ones are never looked up).
    pub public: bool,
    /// The special range it belongs to, when it is not public.
    pub reserved: Option<&'static str>,
    /// The blocklist entry that lists it, if any.
    pub blocklist: Option<AddressReputation>,
    /// The AbuseIPDB verdict, if one is known.
    pub abuseipdb: Option<AddressReputation>,
    /// Where the verdict came from: `cache`, `lookup`, or why there is none.
    pub abuseipdb_status: String,
}

/// Runs `wirewatch intel`.
pub fn run(args: &IntelArgs) -> anyhow::Result<i32> {
    match &args.command {
        IntelCommand::Check(c) => check(c),
    }
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn check(args: &CheckArgs) -> anyhow::Result<i32> {
    let settings = crate::settings::load_config(args.config.as_deref())?.intel;
    let ip = args.ip;
    let reserved = reserved_reason(ip);
    let (set, _) = Blocklists::load(&settings.blocklists).context("cannot load the blocklists")?;
    let blocklist = set
        .lookup(ip)
        .map(|m| Reputation::from_blocklist(ip, &m, now().as_secs()).to_core());
    let cache = if args.db.exists() {
        Some(IntelCache::open(&args.db).context("cannot open the threat-intel cache")?)
    } else {
        None
    };
    let now_ns = u64::try_from(now().as_nanos()).unwrap_or(u64::MAX);
    let cached = match &cache {
        Some(c) => c
            .get(ip, now_ns)?
            .and_then(|e| serde_json::from_str::<Reputation>(&e.data).ok()),
        None => None,
    };
    let (abuseipdb, status) = if reserved.is_some() {
        (None, "not looked up: not a public address".to_string())
    } else if let Some(r) = cached {
        (Some(r.to_core()), "cache".to_string())
    } else {
        match settings.abuseipdb()? {
            None => (
                None,
                format!(
                    "not looked up: no AbuseIPDB key ([intel.abuseipdb] api_key or {})",
                    crate::intel::ENV_API_KEY
                ),
            ),
            Some(config) => {
                let ttl = config.cache_ttl;
                let client = AbuseIpdbClient::new(&config)?;
                match client.check(ip) {
                    Ok(outcome) => {
                        let r = outcome.reputation;
                        // The answer cost quota: keep it, creating the database if need be.
                        let cache = match cache {
                            Some(c) => c,
                            None => IntelCache::open(&args.db).with_context(|| {
                                format!("cannot create {} to cache the answer", args.db.display())
                            })?,
                        };
                        cache.put(ip, &r.cache_entry(now(), ttl)?)?;
                        (Some(r.to_core()), "lookup".to_string())
                    }
                    Err(e) => (None, format!("look-up failed: {e}")),
                }
            }
        }
    };
    let report = CheckReport {
        ip,
        public: reserved.is_none(),
        reserved,
        blocklist,
        abuseipdb,
        abuseipdb_status: status,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(0)
}

fn print_text(r: &CheckReport) {
    println!("{}", r.ip);
    match r.reserved {
        Some(why) => println!("  address:   not public ({why}); never sent to AbuseIPDB"),
        None => println!("  address:   public"),
    }
    match &r.blocklist {
        Some(b) => println!("  blocklist: {}", b.summary()),
        None => println!("  blocklist: not listed"),
    }
    match &r.abuseipdb {
        Some(a) => {
            let mut line = format!(
                "  abuseipdb: score {}/100 ({})",
                a.score, r.abuseipdb_status
            );
            if let wirewatch_core::ThreatSource::Abuseipdb {
                country_code,
                isp,
                usage_type,
                total_reports,
                ..
            } = &a.source
            {
                line.push_str(&format!(", {total_reports} reports"));
                for v in [country_code, isp, usage_type].into_iter().flatten() {
                    line.push_str(&format!(", {v}"));
                }
            }
            println!("{line}");
        }
        None => println!("  abuseipdb: {}", r.abuseipdb_status),
    }
}
