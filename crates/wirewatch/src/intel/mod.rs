//! Threat intelligence for `wirewatch run` and `analyze`: the `[intel]` settings, loading the
//! blocklists (and reloading them when their files change), starting the AbuseIPDB service
//! when a key is configured, and `wirewatch intel check`.

pub use wirewatch_engine::intel::{EngineIntel, SharedSet};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wirewatch_intel::{AbuseIpdbConfig, BlocklistConfig, IntelCache, IntelService, Reloader};

/// Environment variable holding the AbuseIPDB key when the config has none.
pub const ENV_API_KEY: &str = "ABUSEIPDB_API_KEY";

/// Threat-intelligence settings (`[intel]`, `[[intel.blocklists]]`, `[intel.abuseipdb]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntelSettings {
    /// Offline blocklists (no account needed).
    pub blocklists: Vec<BlocklistConfig>,
    /// How often the blocklist files are checked for changes, in seconds (0: never reload).
    pub reload_secs: u64,
    /// AbuseIPDB look-ups (only with a key).
    pub abuseipdb: AbuseIpdbSettings,
}

impl Default for IntelSettings {
    fn default() -> Self {
        IntelSettings {
            blocklists: Vec::new(),
            reload_secs: 10,
            abuseipdb: AbuseIpdbSettings::default(),
        }
    }
}

/// AbuseIPDB settings (`[intel.abuseipdb]`). Without `api_key` (and without
/// `ABUSEIPDB_API_KEY` in the environment) no address is ever sent anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AbuseIpdbSettings {
    /// Look addresses up when a key is available.
    pub enabled: bool,
    /// The API key (or `ABUSEIPDB_API_KEY`).
    pub api_key: Option<String>,
    /// The API base address (or `ABUSEIPDB_BASE_URL`; default the public API).
    pub base_url: Option<String>,
    /// Reports older than this many days are not counted (`maxAgeInDays`).
    pub max_age_days: u32,
    /// Look-ups per day the plan allows (the server's rate-limit headers take precedence).
    pub daily_quota: u32,
    /// How long an answer is reused, in hours (kept in the database across restarts).
    pub cache_ttl_hours: u64,
}

impl Default for AbuseIpdbSettings {
    fn default() -> Self {
        AbuseIpdbSettings {
            enabled: true,
            api_key: None,
            base_url: None,
            max_age_days: 90,
            daily_quota: 1000,
            cache_ttl_hours: 24,
        }
    }
}

impl IntelSettings {
    /// The AbuseIPDB client settings, when a key is configured (config or environment).
    pub fn abuseipdb(&self) -> anyhow::Result<Option<AbuseIpdbConfig>> {
        let a = &self.abuseipdb;
        if !a.enabled {
            return Ok(None);
        }
        let key = a
            .api_key
            .clone()
            .or_else(|| std::env::var(ENV_API_KEY).ok())
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        let Some(key) = key else { return Ok(None) };
        let mut c = AbuseIpdbConfig::new(key);
        if let Some(url) = &a.base_url {
            c.base_url = url.trim().to_string();
        }
        c.max_age_days = a.max_age_days;
        c.daily_quota = Some(a.daily_quota);
        c.cache_ttl = Duration::from_secs(a.cache_ttl_hours.saturating_mul(3600));
        c.validate().context("[intel.abuseipdb]")?;
        Ok(Some(c))
    }
}

/// Loads the blocklists once (for offline analysis), saying what was loaded.
pub fn load_blocklists(settings: &IntelSettings) -> anyhow::Result<Option<SharedSet>> {
    if settings.blocklists.is_empty() {
        return Ok(None);
    }
    let (set, report) = wirewatch_intel::Blocklists::load(&settings.blocklists)
        .context("cannot load the blocklists")?;
    tell_loaded(&report);
    Ok(Some(Arc::new(Mutex::new(Arc::new(set)))))
}

/// One line per list on stderr, and the first malformed lines (with file and line number).
fn tell_loaded(report: &wirewatch_intel::LoadReport) {
    for list in &report.lists {
        let bad = list.warnings.len() + list.warnings_omitted;
        eprintln!(
            "wirewatch: blocklist {} ({}): {} entries{}",
            list.name,
            list.path.display(),
            list.entries,
            if bad == 0 {
                String::new()
            } else {
                format!(", {bad} malformed lines skipped")
            }
        );
        for w in list.warnings.iter().take(MAX_WARNINGS_SHOWN) {
            eprintln!("warning: {w}");
        }
    }
}

/// Malformed lines shown per list at start (the count says how many there were).
const MAX_WARNINGS_SHOWN: usize = 5;

/// Threat intelligence running for a monitor: the engine's part and the reloader thread.
pub struct IntelRuntime {
    /// Hand this to the engine.
    pub engine: Option<EngineIntel>,
    stop: Arc<AtomicBool>,
    reloader: Option<std::thread::JoinHandle<()>>,
}

impl IntelRuntime {
    /// Loads the blocklists (a missing file or unreadable list is an error), starts the
    /// reloader and, with a key, the AbuseIPDB service caching in the database at `db`.
    /// Nothing configured: no intel at all.
    pub fn start(settings: &IntelSettings, db: Option<&Path>) -> anyhow::Result<IntelRuntime> {
        let abuse = settings.abuseipdb()?;
        if settings.blocklists.is_empty() && abuse.is_none() {
            return Ok(IntelRuntime {
                engine: None,
                stop: Arc::default(),
                reloader: None,
            });
        }
        let mut reloader = Reloader::new(settings.blocklists.clone());
        let (set, report) = reloader.load().context("cannot load the blocklists")?;
        tell_loaded(&report);
        let shared: SharedSet = Arc::new(Mutex::new(Arc::new(set)));
        let stop = Arc::new(AtomicBool::new(false));
        let reload_thread = if settings.blocklists.is_empty() {
            None
        } else {
            // SIGHUP reloads the lists at once, whatever `reload_secs` says.
            let hup = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())
                .context("cannot watch for SIGHUP")?;
            Some(spawn_reloader(
                reloader,
                shared.clone(),
                stop.clone(),
                hup,
                settings.reload_secs,
            )?)
        };
        let service = match abuse {
            Some(config) => {
                let cache = db
                    .map(IntelCache::open)
                    .transpose()
                    .context("cannot open the threat-intel cache")?;
                eprintln!(
                    "wirewatch: AbuseIPDB look-ups on ({}), cached {} h",
                    config.base_url,
                    config.cache_ttl.as_secs() / 3600
                );
                Some(
                    IntelService::start(config, cache)
                        .context("cannot start AbuseIPDB look-ups")?,
                )
            }
            None => None,
        };
        Ok(IntelRuntime {
            engine: Some(EngineIntel::new(shared, service)),
            stop,
            reloader: reload_thread,
        })
    }

    /// Stops the reloader thread.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.reloader.take() {
            let _ = h.join();
        }
    }
}

impl Drop for IntelRuntime {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Checks the blocklist files every `secs` seconds (0: never) and swaps in the new set when
/// they changed, or reloads them when `hup` is raised (SIGHUP); a list that fails to load keeps
/// the old set in force (and says why).
fn spawn_reloader(
    mut reloader: Reloader,
    shared: SharedSet,
    stop: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
    secs: u64,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("blocklists".into())
        .spawn(move || {
            let tick = Duration::from_millis(200);
            let every = Duration::from_secs(secs);
            let mut waited = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                waited += tick;
                let signalled = hup.swap(false, Ordering::Relaxed);
                if !signalled && (secs == 0 || waited < every) {
                    continue;
                }
                waited = Duration::ZERO;
                let result = if signalled {
                    reloader.load().map(Some)
                } else {
                    reloader.reload_if_changed()
                };
                match result {
                    Ok(Some((set, report))) => {
                        eprintln!(
                            "wirewatch: blocklists reloaded: {} entries in {} lists",
                            report.entries,
                            report.lists.len()
                        );
                        if let Ok(mut s) = shared.lock() {
                            *s = Arc::new(set);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => eprintln!("warning: blocklists not reloaded (old ones kept): {e}"),
                }
            }
        })
        .context("cannot start the blocklist reloader")
}
