//! A blocking client for AbuseIPDB's API v2 `check` endpoint.
//!
//! Owns the request (`GET {base}/check?ipAddress=…&maxAgeInDays=…&verbose` with the `Key`
//! and `Accept: application/json` headers), the decoding of the answer into a
//! [`Reputation`], the rate-limit headers, and the typed errors of each status AbuseIPDB
//! documents (401 bad key, 422 bad address, 429 quota exhausted). It must not retry, wait,
//! cache or decide what to look up: that is the worker's job. It must never log or print the
//! API key (the config's `Debug` hides it).

use crate::error::IntelError;
use crate::reputation::{Reputation, Source};
use serde::Deserialize;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// AbuseIPDB's API v2 address.
pub const DEFAULT_BASE_URL: &str = "https://api.abuseipdb.com/api/v2";
/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "ABUSEIPDB_API_KEY";
/// Environment variable overriding the API address (tests point it at a local server).
pub const ENV_BASE_URL: &str = "ABUSEIPDB_BASE_URL";
/// Reports considered, in days (`maxAgeInDays`): 90 covers a quarter's activity, long
/// enough to catch a slow campaign, short enough to forget a cleaned-up host. AbuseIPDB
/// accepts 1 to 365.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 90;
/// Longest `maxAgeInDays` AbuseIPDB accepts.
pub const MAX_AGE_DAYS_LIMIT: u32 = 365;
/// Whole-request timeout: the API answers in well under a second; 10 s rides out a slow
/// link without holding the worker for long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Daily `check` requests of AbuseIPDB's free plan; the server's `X-RateLimit-*` headers
/// replace it as soon as one answer arrived.
pub const DEFAULT_DAILY_QUOTA: u32 = 1000;
/// How long an answer stays fresh: reputations change over days, and a day keeps a free
/// plan's 1,000 look-ups for addresses not seen yet.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Addresses waiting for a look-up: about one look-up per second is sustainable, so a
/// queue of 1024 holds a quarter hour of new addresses; beyond it submissions are dropped
/// (and counted) rather than let memory grow.
pub const DEFAULT_QUEUE: usize = 1024;
/// Largest answer read. A verbose answer lists the address's reports (a few hundred bytes
/// each); 16 MiB holds tens of thousands of them and bounds a misbehaving server.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// Characters of a server's error detail kept in an error message: AbuseIPDB's details are
/// one sentence; the cap bounds what a misbehaving server (or an HTML error page) can put
/// into logs.
const MAX_DETAIL_CHARS: usize = 300;

/// How to reach AbuseIPDB and how much of it to use.
#[derive(Clone, PartialEq, Eq)]
pub struct AbuseIpdbConfig {
    /// The API key (`Key` header). Never printed.
    pub api_key: String,
    /// The API address, without the `/check` path.
    pub base_url: String,
    /// `maxAgeInDays`: how far back reports count (1–365).
    pub max_age_days: u32,
    /// Send `verbose` (adds the country name and the report list to the answer).
    pub verbose: bool,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// The plan's daily `check` limit; `None`: unknown, trust the server's headers alone.
    pub daily_quota: Option<u32>,
    /// How long an answer is reused before the address is looked up again.
    pub cache_ttl: Duration,
    /// Depth of the look-up queue (and of the backlog kept while paused).
    pub queue: usize,
}

impl fmt::Debug for AbuseIpdbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbuseIpdbConfig")
            .field("api_key", &"<hidden>")
            .field("base_url", &self.base_url)
            .field("max_age_days", &self.max_age_days)
            .field("verbose", &self.verbose)
            .field("timeout", &self.timeout)
            .field("daily_quota", &self.daily_quota)
            .field("cache_ttl", &self.cache_ttl)
            .field("queue", &self.queue)
            .finish()
    }
}

impl AbuseIpdbConfig {
    /// A config with `api_key` and every default (the base address from
    /// [`ENV_BASE_URL`] when set, else [`DEFAULT_BASE_URL`]).
    pub fn new(api_key: impl Into<String>) -> Self {
        Self::with_lookup(api_key.into(), |name| std::env::var(name).ok())
    }

    /// The config the environment gives: `None` when [`ENV_API_KEY`] is unset or empty.
    pub fn from_env() -> Option<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `var` (for tests and for
    /// a caller that layers its own configuration over the environment).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let key = var(ENV_API_KEY)?.trim().to_string();
        if key.is_empty() {
            return None;
        }
        Some(Self::with_lookup(key, var))
    }

    fn with_lookup(api_key: String, var: impl Fn(&str) -> Option<String>) -> Self {
        let base_url = var(ENV_BASE_URL)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        AbuseIpdbConfig {
            api_key,
            base_url,
            max_age_days: DEFAULT_MAX_AGE_DAYS,
            verbose: true,
            timeout: DEFAULT_TIMEOUT,
            daily_quota: Some(DEFAULT_DAILY_QUOTA),
            cache_ttl: DEFAULT_CACHE_TTL,
            queue: DEFAULT_QUEUE,
        }
    }

    /// Checks every setting; the error names the setting and says what is accepted.
    pub fn validate(&self) -> Result<(), IntelError> {
        let bad = |setting, message: String| Err(IntelError::Config { setting, message });
        if self.api_key.trim().is_empty() {
            return bad(
                "abuseipdb.api_key",
                format!("the API key is empty; set it in the configuration or in {ENV_API_KEY}"),
            );
        }
        if self.api_key.chars().any(|c| c.is_control() || c == ' ') {
            return bad(
                "abuseipdb.api_key",
                "the API key contains spaces or control characters; copy it again from your \
                 AbuseIPDB account page"
                    .to_string(),
            );
        }
        let url = self.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.parse::<ureq::http::Uri>().is_err()
        {
            return bad(
                "abuseipdb.base_url",
                format!(
                    "{url:?} is not an http:// or https:// address (the default is \
                     {DEFAULT_BASE_URL})"
                ),
            );
        }
        if !(1..=MAX_AGE_DAYS_LIMIT).contains(&self.max_age_days) {
            return bad(
                "abuseipdb.max_age_days",
                format!(
                    "{} is out of range: AbuseIPDB accepts 1 to {MAX_AGE_DAYS_LIMIT}",
                    self.max_age_days
                ),
            );
        }
        if self.timeout.is_zero() {
            return bad("abuseipdb.timeout", "must be more than zero".to_string());
        }
        if self.queue == 0 {
            return bad("abuseipdb.queue", "must be at least 1".to_string());
        }
        Ok(())
    }
}

/// The rate-limit headers of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: the daily limit.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`: requests left until the reset.
    pub remaining: Option<u32>,
    /// `Retry-After` (seconds form), sent with 429.
    pub retry_after: Option<Duration>,
    /// `X-RateLimit-Reset` (Unix seconds), sent with 429.
    pub reset_at: Option<SystemTime>,
}

impl RateLimit {
    fn from_headers(headers: &ureq::http::HeaderMap) -> RateLimit {
        let num = |name: &str| -> Option<u64> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
        };
        RateLimit {
            limit: num("x-ratelimit-limit").map(saturating_u32),
            remaining: num("x-ratelimit-remaining").map(saturating_u32),
            retry_after: num("retry-after").map(Duration::from_secs),
            reset_at: num("x-ratelimit-reset").map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        }
    }
}

fn saturating_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A successful `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The answer, exactly as scored.
    pub reputation: Reputation,
    /// The answer's rate-limit headers.
    pub rate_limit: RateLimit,
}

/// Why one `check` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// 401: the key is wrong or revoked. Every further request would fail the same way.
    #[error(
        "AbuseIPDB refused the API key (HTTP 401: {detail}); set a valid key in the \
         configuration or in {ENV_API_KEY}"
    )]
    Unauthorized {
        /// The server's error detail.
        detail: String,
    },
    /// 422: the server rejected the address (invalid, or not one it checks).
    #[error("AbuseIPDB rejected the address {ip} (HTTP 422: {detail})")]
    BadAddress {
        /// The address.
        ip: IpAddr,
        /// The server's error detail.
        detail: String,
        /// The answer's rate-limit headers.
        rate_limit: RateLimit,
    },
    /// 429: the quota is used up until the reset the headers give.
    #[error(
        "AbuseIPDB's rate limit is exhausted (HTTP 429: {detail}); look-ups pause until {}",
        describe_reset(rate_limit)
    )]
    RateLimited {
        /// The server's error detail.
        detail: String,
        /// The answer's headers (`Retry-After`, `X-RateLimit-Reset`).
        rate_limit: RateLimit,
    },
    /// Any other non-success status.
    #[error("AbuseIPDB answered HTTP {status} for {ip}: {detail}")]
    Http {
        /// The status code.
        status: u16,
        /// The address looked up.
        ip: IpAddr,
        /// The server's error detail, or the start of the body.
        detail: String,
        /// The answer's rate-limit headers.
        rate_limit: RateLimit,
    },
    /// The server could not be reached or the connection failed.
    #[error("cannot reach AbuseIPDB at {url} to check {ip}: {message}")]
    Network {
        /// The endpoint (no key in it).
        url: String,
        /// The address looked up.
        ip: IpAddr,
        /// What failed.
        message: String,
    },
    /// A 200 answer that is not the documented JSON.
    #[error("cannot read AbuseIPDB's answer for {ip}: {message}")]
    Decode {
        /// The address looked up.
        ip: IpAddr,
        /// What is wrong with it.
        message: String,
    },
}

impl ClientError {
    /// The rate-limit headers the failed answer carried, if there was an answer.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        match self {
            ClientError::BadAddress { rate_limit, .. }
            | ClientError::RateLimited { rate_limit, .. }
            | ClientError::Http { rate_limit, .. } => Some(rate_limit),
            _ => None,
        }
    }

    /// Whether the same request may succeed later (network trouble, server errors).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Network { .. } => true,
            ClientError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

fn describe_reset(r: &RateLimit) -> String {
    match (r.retry_after, r.reset_at) {
        (Some(d), _) => format!("{} s from now", d.as_secs()),
        (None, Some(t)) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => format!("Unix time {}", d.as_secs()),
            Err(_) => "the reset".to_string(),
        },
        (None, None) => "the server's reset (no time given)".to_string(),
    }
}

/// The `data` object of a `check` answer (fields as AbuseIPDB names them).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckData {
    abuse_confidence_score: i64,
    #[serde(default)]
    is_whitelisted: Option<bool>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    country_name: Option<String>,
    #[serde(default)]
    usage_type: Option<String>,
    #[serde(default)]
    isp: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    hostnames: Option<Vec<String>>,
    #[serde(default)]
    is_tor: Option<bool>,
    #[serde(default)]
    total_reports: Option<u64>,
    #[serde(default)]
    num_distinct_users: Option<u64>,
    #[serde(default)]
    last_reported_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CheckBody {
    data: CheckData,
}

/// AbuseIPDB's error body: `{"errors":[{"detail": "...", "status": 422}]}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    #[serde(default)]
    detail: Option<String>,
}

/// The detail of an error body, or the start of whatever the body is.
fn error_detail(body: &str) -> String {
    let detail = match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) => e
            .errors
            .into_iter()
            .filter_map(|i| i.detail)
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => body.trim().to_string(),
    };
    let short: String = detail
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DETAIL_CHARS)
        .collect();
    if short.is_empty() {
        "no detail given".to_string()
    } else {
        short
    }
}

/// A blocking AbuseIPDB client (one connection pool, reused across requests).
pub struct AbuseIpdbClient {
    agent: ureq::Agent,
    check_url: String,
    key: String,
    max_age_days: u32,
    verbose: bool,
}

impl fmt::Debug for AbuseIpdbClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbuseIpdbClient")
            .field("check_url", &self.check_url)
            .finish_non_exhaustive()
    }
}

impl AbuseIpdbClient {
    /// A client for `config` (validated first).
    pub fn new(config: &AbuseIpdbConfig) -> Result<Self, IntelError> {
        config.validate()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // 4xx/5xx are answers with documented bodies, not opaque errors.
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .user_agent(concat!("wirewatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(AbuseIpdbClient {
            agent,
            check_url: format!("{}/check", config.base_url.trim().trim_end_matches('/')),
            key: config.api_key.trim().to_string(),
            max_age_days: config.max_age_days,
            verbose: config.verbose,
        })
    }

    /// The endpoint requests go to.
    pub fn check_url(&self) -> &str {
        &self.check_url
    }

    /// Looks `ip` up. The result carries the score exactly as the server gave it.
    pub fn check(&self, ip: IpAddr) -> Result<CheckOutcome, ClientError> {
        let ip = ip.to_canonical();
        // An address's text is digits, hex, dots and colons; only the colon needs escaping.
        let mut url = format!(
            "{}?ipAddress={}&maxAgeInDays={}",
            self.check_url,
            ip.to_string().replace(':', "%3A"),
            self.max_age_days
        );
        if self.verbose {
            url.push_str("&verbose");
        }
        let network = |message: String| ClientError::Network {
            url: self.check_url.clone(),
            ip,
            message,
        };
        let mut response = self
            .agent
            .get(&url)
            .header("Key", &self.key)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| network(e.to_string()))?;
        let status = response.status().as_u16();
        let rate_limit = RateLimit::from_headers(response.headers());
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .lossy_utf8(true)
            .read_to_string()
            .map_err(|e| network(format!("reading the answer: {e}")))?;
        match status {
            200 => {
                let reputation = decode(ip, &body)?;
                Ok(CheckOutcome {
                    reputation,
                    rate_limit,
                })
            }
            401 => Err(ClientError::Unauthorized {
                detail: error_detail(&body),
            }),
            422 => Err(ClientError::BadAddress {
                ip,
                detail: error_detail(&body),
                rate_limit,
            }),
            429 => Err(ClientError::RateLimited {
                detail: error_detail(&body),
                rate_limit,
            }),
            _ => Err(ClientError::Http {
                status,
                ip,
                detail: error_detail(&body),
                rate_limit,
            }),
        }
    }
}

/// Decodes a 200 answer; the fetch time is the wall clock now.
fn decode(ip: IpAddr, body: &str) -> Result<Reputation, ClientError> {
    let parsed: CheckBody = serde_json::from_str(body).map_err(|e| ClientError::Decode {
        ip,
        message: format!("not the documented JSON ({e})"),
    })?;
    let d = parsed.data;
    let score = u8::try_from(d.abuse_confidence_score)
        .ok()
        .filter(|s| *s <= 100)
        .ok_or_else(|| ClientError::Decode {
            ip,
            message: format!(
                "abuseConfidenceScore {} is outside 0..=100",
                d.abuse_confidence_score
            ),
        })?;
    let fetched_at_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(Reputation {
        ip,
        source: Source::AbuseIpdb,
        score,
        country_code: d.country_code,
        country_name: d.country_name,
        usage_type: d.usage_type,
        isp: d.isp,
        domain: d.domain,
        hostnames: d.hostnames.unwrap_or_default(),
        total_reports: d.total_reports.unwrap_or(0),
        distinct_users: d.num_distinct_users.unwrap_or(0),
        last_reported_at: d.last_reported_at,
        is_tor: d.is_tor.unwrap_or(false),
        is_whitelisted: d.is_whitelisted,
        list: None,
        entry: None,
        reference: None,
        fetched_at_unix,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn config_from_lookup_and_validation() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(AbuseIpdbConfig::from_lookup(env(&[])).is_none());
        assert!(AbuseIpdbConfig::from_lookup(env(&[(ENV_API_KEY, "  ")])).is_none());
        let c = AbuseIpdbConfig::from_lookup(env(&[(ENV_API_KEY, "k123")])).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.max_age_days, 90);
        assert_eq!(c.daily_quota, Some(1000));
        assert_eq!(c.cache_ttl, Duration::from_secs(86400));
        c.validate().unwrap();
        let c = AbuseIpdbConfig::from_lookup(env(&[
            (ENV_API_KEY, "k123"),
            (ENV_BASE_URL, "http://127.0.0.1:9/api/v2"),
        ]))
        .unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:9/api/v2");
        assert!(!format!("{c:?}").contains("k123"));

        let mut bad = c.clone();
        bad.base_url = "ftp://x".into();
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("abuseipdb.base_url")
        );
        let mut bad = c.clone();
        bad.max_age_days = 366;
        assert!(bad.validate().unwrap_err().to_string().contains("1 to 365"));
        let mut bad = c.clone();
        bad.api_key = "has space".into();
        assert!(bad.validate().is_err());
        let mut bad = c;
        bad.queue = 0;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn decode_documented_answer() {
        let body = r#"{"data":{"ipAddress":"118.25.6.39","isPublic":true,"ipVersion":4,
            "isWhitelisted":false,"abuseConfidenceScore":100,"countryCode":"CN",
            "countryName":"China","usageType":"Data Center/Web Hosting/Transit",
            "isp":"Tencent Cloud Computing (Beijing) Co. Ltd","domain":"tencent.com",
            "hostnames":[],"isTor":false,"totalReports":1,"numDistinctUsers":1,
            "lastReportedAt":"2018-12-20T20:55:14+00:00",
            "reports":[{"reportedAt":"2018-12-20T20:55:14+00:00","comment":"x","categories":[18,22]}]}}"#;
        let r = decode("118.25.6.39".parse().unwrap(), body).unwrap();
        assert_eq!(r.score, 100);
        assert_eq!(r.country_name.as_deref(), Some("China"));
        assert_eq!(r.is_whitelisted, Some(false));
        assert_eq!(r.total_reports, 1);
        // Nulls where AbuseIPDB sends them.
        let body = r#"{"data":{"ipAddress":"1.2.3.4","isPublic":true,"ipVersion":4,
            "isWhitelisted":null,"abuseConfidenceScore":0,"countryCode":null,
            "usageType":null,"isp":"x","domain":null,"hostnames":null,"isTor":false,
            "totalReports":0,"numDistinctUsers":0,"lastReportedAt":null}}"#;
        let r = decode("1.2.3.4".parse().unwrap(), body).unwrap();
        assert_eq!(r.score, 0);
        assert_eq!(r.is_whitelisted, None);
        assert!(r.hostnames.is_empty());
        for bad in [
            r#"{"data":{"abuseConfidenceScore":101}}"#,
            r#"{"data":{"abuseConfidenceScore":-1}}"#,
            r#"{"data":{}}"#,
            "<html>",
        ] {
            assert!(
                matches!(
                    decode("1.2.3.4".parse().unwrap(), bad),
                    Err(ClientError::Decode { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn error_details() {
        assert_eq!(
            error_detail(r#"{"errors":[{"detail":"Authentication failed.","status":401}]}"#),
            "Authentication failed."
        );
        assert_eq!(error_detail("  "), "no detail given");
        assert_eq!(error_detail("Bad Gateway"), "Bad Gateway");
        assert_eq!(error_detail(&"x".repeat(1000)).len(), MAX_DETAIL_CHARS);
    }
}
