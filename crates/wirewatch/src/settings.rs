//! What a command runs with: defaults, then the configuration file, then the flags, merged
//! once here into typed settings. Commands read these, never a flag the file can also set.

use crate::cli::{CaptureFileArgs, EngineArgs, RunArgs, WebArgs};
use crate::config::{Config, WebSettings};
use crate::dashboard::serve::WebPlan;
use crate::memory::MemoryPlan;
use std::path::PathBuf;
use wirewatch_capture::write::{PcapFormat, RotateConfig};
use wirewatch_web::{TlsFiles, WebConfig};

/// The configuration of a command that runs the engine: defaults, then the file, then the
/// flags; validated.
pub fn engine_config(args: &EngineArgs) -> anyhow::Result<Config> {
    let mut config = load_config(args.config.as_deref())?;
    if let Some(ms) = args.interval {
        config.metrics.interval_ms = ms;
    }
    if let Some(n) = args.max_flows {
        config.flows.max_flows = n;
    }
    if args.no_detect {
        config.detect.enabled = false;
    }
    if args.no_app {
        config.flows.app_decoding = false;
    }
    if let Some(dir) = &args.evidence_dir {
        config.evidence.enabled = true;
        config.evidence.dir = Some(dir.clone());
    }
    if args.no_evidence {
        config.evidence.enabled = false;
    }
    config.validate()?;
    Ok(config)
}

/// The configuration file (`--config`, `WIREWATCH_CONFIG` or the system's) with the
/// environment's secrets over it; the defaults when there is no file.
pub fn load_config(flag: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let env = |name: &str| std::env::var(name).ok();
    let mut config = match crate::config::config_path(flag, &env, &|p| p.is_file()) {
        Some((path, system)) => {
            if system {
                eprintln!("wirewatch: reading {} (no --config given)", path.display());
            }
            Config::load(&path)?
        }
        None => Config::default(),
    };
    config.apply_env(&env);
    config.validate()?;
    Ok(config)
}

/// Everything `wirewatch run` runs with.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The configuration, its flow-table cap fitted to the memory budget.
    pub config: Config,
    /// How the memory budget is spent.
    pub memory: MemoryPlan,
    /// The dashboard's server, when it is served.
    pub web: Option<WebPlan>,
    /// Rotating capture files (`--write-pcap`).
    pub capture_files: Option<RotateConfig>,
    /// The one capture file of every packet (`-w`) and its format.
    pub write_file: Option<(PathBuf, PcapFormat)>,
    /// Where alert evidence captures go (none: no captures).
    pub evidence_dir: Option<PathBuf>,
    /// Whether packets are recorded (the ring: evidence or capture files).
    pub recording: bool,
}

impl RunSettings {
    /// Merges the flags of `run` with the configuration file, once.
    pub fn resolve(args: &RunArgs) -> anyhow::Result<Self> {
        let mut config = engine_config(&args.engine)?;
        let capture_files = capture_files(&args.pcap_files)?;
        let write_file = args
            .write
            .clone()
            .map(|p| (p.clone(), PcapFormat::for_path(&p)));
        let recording = config.evidence.enabled || capture_files.is_some() || write_file.is_some();
        let memory = crate::memory::plan(
            &config.memory,
            crate::memory::RunShape {
                max_flows: config.flows.max_flows,
                ring_bytes: if recording {
                    config.evidence.ring_mb << 20
                } else {
                    0
                },
                database: !args.no_db,
                recording,
                reassembly_bytes: if config.flows.ip_reassembly {
                    config.flows.reassembly.max_bytes as u64
                } else {
                    0
                },
            },
        )?;
        config.flows.max_flows = memory.max_flows;
        let web = web_plan(&config.web, &args.web)?;
        let evidence_dir = config
            .evidence
            .dir_for((!args.no_db).then_some(args.db.as_path()));
        Ok(RunSettings {
            config,
            memory,
            web,
            capture_files,
            write_file,
            evidence_dir,
            recording,
        })
    }
}

/// The rotation of capture files, when `--write-pcap` was given.
pub fn capture_files(args: &CaptureFileArgs) -> anyhow::Result<Option<RotateConfig>> {
    let Some(dir) = &args.dir else {
        return Ok(None);
    };
    anyhow::ensure!(args.file_mb > 0, "--pcap-file-mb must be positive");
    anyhow::ensure!(
        args.total_mb >= args.file_mb,
        "--pcap-total-mb must be at least --pcap-file-mb"
    );
    anyhow::ensure!(
        args.file_secs != Some(0) && args.files != Some(0),
        "--pcap-file-secs and --pcap-files must be positive"
    );
    let mib = 1u64 << 20;
    let mut c = RotateConfig::new(dir.clone());
    c.max_file_bytes = Some(args.file_mb.saturating_mul(mib));
    c.max_file_secs = args.file_secs;
    c.max_files = args.files;
    c.max_total_bytes = Some(args.total_mb.saturating_mul(mib));
    Ok(Some(c))
}

/// The server plan from the config file and the flags; `None` when the dashboard is off.
pub fn web_plan(settings: &WebSettings, args: &WebArgs) -> anyhow::Result<Option<WebPlan>> {
    if args.no_web || !settings.enabled {
        return Ok(None);
    }
    let explicit = args.listen.is_some() || settings.listen != crate::config::DEFAULT_LISTEN;
    let listen = match args.listen {
        Some(a) => a,
        None => wirewatch_web::parse_listen(&settings.listen)
            .map_err(|e| anyhow::anyhow!("web.listen: {e}"))?,
    };
    let token = match (&args.token_file, &settings.token_file, &settings.token) {
        (Some(f), _, _) | (None, Some(f), _) => Some(crate::dashboard::serve::read_token(f)?),
        (None, None, Some(t)) => Some(t.trim().to_string()),
        (None, None, None) => None,
    };
    let tls = match (
        args.tls_cert.as_ref().or(settings.tls_cert.as_ref()),
        args.tls_key.as_ref().or(settings.tls_key.as_ref()),
    ) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    Ok(Some(WebPlan {
        config: WebConfig { listen, token, tls },
        explicit,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_config_and_the_default_is_not_explicit() {
        let settings = WebSettings::default();
        let p = web_plan(&settings, &WebArgs::default())
            .unwrap_or_default()
            .map(|p| (p.config.listen.to_string(), p.explicit));
        assert_eq!(p, Some(("127.0.0.1:8080".to_string(), false)));
        let args = WebArgs {
            listen: "127.0.0.1:0".parse().ok(),
            ..WebArgs::default()
        };
        let p = web_plan(&settings, &args).unwrap_or_default();
        assert!(p.is_some_and(|p| p.explicit));
        let off = WebArgs {
            no_web: true,
            ..WebArgs::default()
        };
        assert!(web_plan(&settings, &off).unwrap_or_default().is_none());
    }
}
