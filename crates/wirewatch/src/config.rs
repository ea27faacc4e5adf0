//! The optional TOML configuration file, validated once into typed settings.

use crate::pipeline::EngineConfig;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything a configuration file may set. Unknown keys are errors, so typos are caught.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Flow table settings (`[flows]`).
    pub flows: wirewatch_flow::FlowConfig,
    /// Interval metrics settings (`[metrics]`).
    pub metrics: wirewatch_metrics::MetricsConfig,
    /// How long history is kept (`[retention]`).
    pub retention: wirewatch_store::RetentionConfig,
    /// Detection (`[detect]`, `[detect.syn_flood]`, `[[detect.suppress]]`, ...).
    pub detect: wirewatch_detect::DetectConfig,
    /// The dashboard and JSON API of `wirewatch run` (`[web]`).
    pub web: WebSettings,
    /// Threat intelligence: blocklists and AbuseIPDB (`[intel]`).
    pub intel: crate::intel::IntelSettings,
    /// Alert notifications: webhook, syslog, e-mail (`[notify]`).
    pub notify: wirewatch_notify::NotifyConfig,
    /// The packet ring and the evidence captures of alerts (`[evidence]`).
    pub evidence: wirewatch_evidence::EvidenceSettings,
    /// The memory budget of a run (`[memory]`).
    pub memory: crate::memory::MemorySettings,
}

/// Dashboard settings (`[web]`). Flags of `wirewatch run` override them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// Serve the dashboard and API while monitoring.
    pub enabled: bool,
    /// Where to listen, as `--listen` reads it: PORT (on 127.0.0.1), ADDR:PORT, [IPV6]:PORT or
    /// HOST:PORT. Loopback needs no login; any other address needs a token.
    pub listen: String,
    /// The access token for a non-loopback address (`wirewatch token` prints a new one).
    pub token: Option<String>,
    /// A file whose first line is the token (instead of `token`, to keep it out of the config).
    pub token_file: Option<std::path::PathBuf>,
    /// PEM certificate chain for HTTPS (with `tls_key`).
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for HTTPS (with `tls_cert`).
    pub tls_key: Option<std::path::PathBuf>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            enabled: true,
            listen: DEFAULT_LISTEN.to_string(),
            token: None,
            token_file: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Where the dashboard listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Names the configuration file when `--config` is absent.
pub const ENV_CONFIG: &str = "WIREWATCH_CONFIG";
/// The dashboard's access token: beats `[web] token` and `token_file`; `--token-file` beats it.
pub const ENV_TOKEN: &str = "WIREWATCH_TOKEN";
/// The AbuseIPDB key: beats `[intel.abuseipdb] api_key`.
pub const ENV_ABUSEIPDB_KEY: &str = "WIREWATCH_ABUSEIPDB_KEY";
/// The SMTP password: beats `[notify.email] password`.
pub const ENV_SMTP_PASSWORD: &str = "WIREWATCH_SMTP_PASSWORD";
/// The file a service reads when neither `--config` nor `WIREWATCH_CONFIG` names one.
pub const SYSTEM_CONFIG: &str = "/etc/wirewatch/wirewatch.toml";

/// Which configuration file to read: `--config`, else `WIREWATCH_CONFIG`, else
/// [`SYSTEM_CONFIG`] when it exists (`true` then: the caller says so). Env and file system
/// come in as functions, so tests need not touch the process's own.
pub fn config_path(
    flag: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    exists: &dyn Fn(&Path) -> bool,
) -> Option<(PathBuf, bool)> {
    if let Some(path) = flag {
        return Some((path.to_path_buf(), false));
    }
    if let Some(path) = env(ENV_CONFIG).filter(|p| !p.trim().is_empty()) {
        return Some((PathBuf::from(path), false));
    }
    let system = Path::new(SYSTEM_CONFIG);
    exists(system).then(|| (system.to_path_buf(), true))
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    /// Parses and validates configuration text.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.flows.max_flows > 0,
            "flows.max_flows must be at least 1"
        );
        anyhow::ensure!(
            self.metrics.interval_ms > 0,
            "metrics.interval_ms must be at least 1"
        );
        anyhow::ensure!(
            self.metrics.talker_cap >= 2,
            "metrics.talker_cap must be at least 2"
        );
        wirewatch_detect::DetectionEngine::new(&self.detect)
            .map_err(|e| anyhow::anyhow!("[detect]: {e}"))?;
        wirewatch_web::parse_listen(&self.web.listen)
            .map_err(|e| anyhow::anyhow!("web.listen: {e}"))?;
        anyhow::ensure!(
            self.web.tls_cert.is_some() == self.web.tls_key.is_some(),
            "web.tls_cert and web.tls_key go together: set both for HTTPS, or neither"
        );
        anyhow::ensure!(
            !(self.web.token.is_some() && self.web.token_file.is_some()),
            "set web.token or web.token_file, not both"
        );
        self.intel.abuseipdb()?;
        self.evidence.validate()?;
        let n = &self.notify;
        if n.webhook.is_some() || n.syslog.is_some() || n.email.is_some() {
            n.validate().map_err(|e| anyhow::anyhow!("[notify]: {e}"))?;
        }
        anyhow::ensure!(
            self.intel
                .blocklists
                .iter()
                .all(|b| !b.path.as_os_str().is_empty()),
            "[[intel.blocklists]] needs a path"
        );
        if let Some(t) = &self.web.token {
            anyhow::ensure!(
                t.trim().len() >= 16,
                "web.token is too short: use at least 16 characters (`wirewatch token` prints a good one)"
            );
        }
        Ok(())
    }

    /// Puts the secrets the environment holds over the file's (flags, applied after this,
    /// beat both). A token from the environment replaces `token_file` too.
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(token) = get(ENV_TOKEN) {
            self.web.token = Some(token.trim().to_string());
            self.web.token_file = None;
        }
        if let Some(key) = get(ENV_ABUSEIPDB_KEY) {
            self.intel.abuseipdb.api_key = Some(key);
        }
        if let (Some(password), Some(email)) = (get(ENV_SMTP_PASSWORD), &mut self.notify.email) {
            email.password = Some(password);
        }
    }

    /// The engine's part. A configured flow model needs flow features, so they are computed.
    pub fn engine(&self) -> EngineConfig {
        let mut flows = self.flows.clone();
        if self.detect.enabled
            && self.detect.ml_threat.enabled
            && self.detect.ml_threat.model.is_some()
        {
            flows.flow_features = true;
        }
        EngineConfig {
            flows,
            metrics: self.metrics.clone(),
            detect: self.detect.clone(),
        }
    }
}

/// Parses an interval length such as `1s`, `500ms`, `2m` or a plain number of seconds (`0.5`)
/// into milliseconds: 1 ms to 24 h (a longer interval would hide everything it is for).
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let ms = duration_ms(text)?;
    if !(1..=86_400_000).contains(&ms) {
        return Err(format!("`{text}` is out of range (1ms to 24h)"));
    }
    Ok(ms)
}

/// Parses how long to run (`30s`, `1h`, `1h30m`, `7d`, `2w`, or seconds) into milliseconds: at
/// least 1 ms, no upper bound (a capture may run for weeks).
pub fn parse_run_duration_ms(text: &str) -> Result<u64, String> {
    let ms = duration_ms(text)?;
    if ms == 0 {
        return Err(format!("`{text}` is too short (at least 1ms)"));
    }
    Ok(ms)
}

/// A duration in whole milliseconds (rounded), as [`wirewatch_core::time::parse_duration_ns`]
/// reads it.
fn duration_ms(text: &str) -> Result<u64, String> {
    let ns = wirewatch_core::time::parse_duration_ns(text)?;
    Ok(ns.saturating_add(500_000) / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("1s"), Ok(1000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("0.5"), Ok(500));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert!(parse_duration_ms("fast").is_err());
        assert!(parse_duration_ms("0s").is_err());
        assert!(parse_duration_ms("25h").is_err());
        assert_eq!(parse_run_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_run_duration_ms("2w"), Ok(14 * 86_400_000));
        assert!(parse_run_duration_ms("0").is_err());
    }

    #[test]
    fn web_listen_takes_the_forms_of_the_flag() {
        for ok in ["8080", "0.0.0.0:8080", "[::1]:8080", "localhost:8080"] {
            let text = format!("[web]\nlisten = \"{ok}\"\n");
            assert!(Config::parse(&text).is_ok(), "{ok}");
        }
        let e = Config::parse("[web]\nlisten = \"localhost\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("web.listen"), "{e:#}");
    }

    #[test]
    fn every_toml_example_in_the_readme_is_a_valid_config() {
        let readme = include_str!("../../../README.md");
        let blocks: Vec<&str> = readme
            .split("```toml")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .collect();
        assert!(blocks.len() >= 3, "the README shows its config sections");
        for block in blocks {
            if let Err(e) = Config::parse(block) {
                panic!("README example does not parse: {e:#}\n{block}");
            }
        }
    }

    #[test]
    fn config_files_are_strict() {
        let c = Config::parse("[flows]\nmax_flows = 10\n[metrics]\ninterval_ms = 5000\n").unwrap();
        assert_eq!(c.flows.max_flows, 10);
        assert_eq!(c.metrics.interval_ms, 5000);
        assert_eq!(c.flows.udp_idle_secs, 60, "unset keys keep their defaults");
        let err = Config::parse("[flows]\nmax_flow = 10\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown field `max_flow`"),
            "{err:#}"
        );
        assert!(Config::parse("[flows]\nmax_flows = 0\n").is_err());
    }
}
