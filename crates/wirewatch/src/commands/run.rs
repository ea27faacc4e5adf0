//! `wirewatch run` (and `wirewatch` alone): live monitoring until Ctrl-C.

use crate::analyze::STORE_FLUSH_WAIT;
use crate::analyze::{AnalyzeReport, ReportCollector};
use crate::cli::RunArgs;
use crate::dashboard::control::Retrainer;
use crate::dashboard::{MonitorControl, SharedPublisher, SharedStatus, SnapshotBuilder};
use crate::intel::IntelRuntime;
use crate::live::{Monitor, SourceSpec, Speed};
use crate::outputs::store::open_store;
use crate::outputs::terminal::TerminalOutput;
use crate::outputs::{OutputPlan, StorePlan};
use crate::pipeline::{Engine, Sink};
use anyhow::{Context, bail};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wirewatch_capture::live::{LiveConfig, default_interface, list_interfaces};
use wirewatch_web::WebState;
use wirewatch_web::snapshot::snapshot_channel;

/// Chooses what to monitor from the arguments.
fn source_spec(args: &RunArgs) -> anyhow::Result<SourceSpec> {
    if let Some(path) = &args.read {
        return Ok(SourceSpec::Replay {
            path: path.clone(),
            speed: args.speed.unwrap_or(Speed::Times(1.0)),
        });
    }
    if args.demo {
        return Ok(SourceSpec::Demo { seed: args.seed });
    }
    let interface = match &args.interface {
        Some(i) => i.clone(),
        None => {
            let list = list_interfaces().context("cannot list network interfaces")?;
            match default_interface(&list) {
                Some(i) => i.name.clone(),
                None => bail!(
                    "no usable network interface found (none is up, not loopback and with an \
                     address); run `wirewatch --demo` to see Wirewatch on generated traffic, or \
                     pick one with `wirewatch interfaces` and `-i`"
                ),
            }
        }
    };
    Ok(SourceSpec::Live(live_config(args, interface)))
}

/// Live capture settings from the flags, on `interface`.
fn live_config(args: &RunArgs, interface: String) -> LiveConfig {
    LiveConfig {
        interface,
        snaplen: args.snaplen,
        promisc: !args.no_promisc,
        buffer_size: args.buffer_size.saturating_mul(1 << 20),
        immediate: args.immediate,
        filter: args.filter.clone().filter(|f| !f.trim().is_empty()),
        ..LiveConfig::default()
    }
}

/// Flows a run's exit report lists: the latest ones (the rest are counted).
pub const RUN_REPORT_FLOWS: usize = 10_000;
/// Intervals a run's exit report lists: the latest ones (the rest are counted).
pub const RUN_REPORT_INTERVALS: usize = 1_000;
/// Alerts a run's exit report lists: the latest ones (the rest are counted; all of them are
/// in the database and the alert log).
pub const RUN_REPORT_ALERTS: usize = 1_000;

/// Runs the live monitor until Ctrl-C/SIGTERM, `--duration`, or the end of a replay.
pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let settings = crate::settings::RunSettings::resolve(args)?;
    // Ctrl-C and SIGTERM stop, and so does SIGHUP (a closed terminal) unless it reloads the
    // blocklists: the run ends cleanly either way. A second one ends the process at once.
    // Installed first: a signal while the run starts (opening the database may wait for a
    // lock) stops it cleanly too.
    let stop = Arc::new(AtomicBool::new(false));
    install_stop_signals(&stop, settings.config.intel.blocklists.is_empty())?;
    let spec = source_spec(args)?;
    let memory = &settings.memory;
    if let Some(from) = memory.lowered_from {
        eprintln!(
            "warning: flows.max_flows lowered from {from} to {} to fit the memory budget; a \
             full flow table evicts the least recently active flow first (counted as evicted)",
            memory.max_flows
        );
    }
    eprintln!("wirewatch: {}", memory.describe());
    let config = &settings.config;
    let rotating = settings.capture_files.clone();
    let recording = settings.recording;
    let store = if args.no_db {
        None
    } else {
        // A live interface's history ages by the wall clock; a replay's and the demo's by
        // the packet time they write.
        let clock = if matches!(spec, SourceSpec::Live(_)) {
            wirewatch_store::RetentionClock::WallClock
        } else {
            wirewatch_store::RetentionClock::WrittenPacketTime
        };
        Some(open_store(&args.db, config, clock)?)
    };
    let web_plan = settings.web.clone();
    let (publisher, snapshots) = snapshot_channel();
    let publisher: SharedPublisher = Arc::new(Mutex::new(publisher));
    let status: SharedStatus = Arc::default();
    let (outputs, failures) = crate::outputs::build(OutputPlan {
        // A monitor's report keeps only the latest flows and intervals: memory stays flat
        // however long it runs (totals come from the engine's running counters).
        summary: ReportCollector::rolling(
            RUN_REPORT_FLOWS,
            RUN_REPORT_INTERVALS,
            RUN_REPORT_ALERTS,
        ),
        // Live monitoring never waits for the disk: a full queue drops (and counts) a batch.
        // A replay waits, as `analyze` does, so the database gets the whole file, until it is
        // told to stop.
        store: store.clone().map(|store| StorePlan {
            store,
            blocking: args.read.is_some(),
            impatient_when: Some(stop.clone()),
        }),
        terminal: Some(TerminalOutput::new(
            !args.json && (args.lines || std::io::stdout().is_terminal()),
            store.clone(),
        )),
        notify: Some(config.notify.clone()),
        dashboard: web_plan.as_ref().map(|_| {
            SnapshotBuilder::new(publisher.clone(), status.clone()).with_store(store.clone())
        }),
        eve: args.eve.clone(),
        alert_log: args.alert_log.clone(),
        // A replay writes its files whole; live capture and the demo never wait for the disk.
        files_wait: args.read.is_some(),
    });
    if let Some(f) = failures.into_iter().next() {
        return Err(f.error);
    }
    let mut intel = IntelRuntime::start(&config.intel, (!args.no_db).then_some(args.db.as_path()))?;
    let mut engine = Engine::new(&config.engine());
    if let Some(i) = intel.engine.take() {
        engine.set_intel(i);
    }
    let evidence_dir = settings.evidence_dir.clone();
    if let Some(dir) = &evidence_dir {
        eprintln!("wirewatch: alert evidence captures go to {}", dir.display());
    }
    if let Some(r) = &rotating {
        eprintln!("wirewatch: writing capture files to {}", r.dir.display());
    }
    // A replay must reproduce its file, evidence included: its writes wait. Live capture and
    // the demo never wait for the disk.
    if recording {
        engine.set_evidence(wirewatch_evidence::start_recorder(
            &config.evidence,
            evidence_dir.clone(),
            rotating.clone(),
            args.read.is_some(),
        )?);
    }
    crate::model::load_flow_model(&engine, &config.detect)?;
    let anomaly = engine.anomaly_slot();
    let model_path = (!args.no_db).then(|| crate::model::model_path_for(&args.db));
    if let (Some(slot), Some(path)) = (&anomaly, &model_path) {
        crate::model::load_into(slot, path)?;
    }
    let monitor = Arc::new(Monitor::with_engine(engine, outputs)?);
    let described = describe(&spec);
    let live_defaults = match &spec {
        SourceSpec::Live(c) => c.clone(),
        _ => live_config(args, String::new()),
    };
    monitor.start(spec)?;
    eprintln!("wirewatch: {described}; Ctrl-C to stop");
    let mut control = None;
    let server = match web_plan {
        Some(plan) => {
            let retrainer = match (&store, &anomaly, &model_path) {
                (Some(store), Some(slot), Some(path)) => Some(Retrainer {
                    store: store.clone(),
                    slot: slot.clone(),
                    trainer: config.detect.ml_anomaly.trainer.clone(),
                    path: path.clone(),
                }),
                _ => None,
            };
            let c = Arc::new(
                MonitorControl::new(monitor.clone(), status, publisher, live_defaults)
                    .with_retrainer(retrainer)
                    .with_packets(crate::dashboard::packets::PacketAccess {
                        ring: recording.then(|| {
                            monitor.clone() as Arc<dyn crate::dashboard::packets::RingAccess>
                        }),
                        evidence_dir: evidence_dir.clone(),
                        capture_files: rotating.as_ref().map(|r| (r.dir.clone(), r.prefix.clone())),
                    }),
            );
            control = Some(c.clone());
            let mut state = WebState::new(snapshots, c).with_version(env!("CARGO_PKG_VERSION"));
            if let Some(s) = &store {
                state = state.with_store(s.clone());
            }
            match wirewatch_web::spawn(&plan.config, state) {
                Ok(handle) => {
                    eprintln!("wirewatch: dashboard at {}", handle.url());
                    Some(handle)
                }
                Err(e) if !plan.explicit => {
                    eprintln!("warning: dashboard not started: {e}");
                    None
                }
                Err(e) => return Err(e).context("cannot start the dashboard"),
            }
        }
        None => None,
    };
    if let Some(user) = &args.user {
        let mut handover = crate::privileges::Handover::default();
        if let Some(dir) = &evidence_dir {
            handover.own_dirs.push(dir.clone());
            handover.writable.push((dir.clone(), "evidence captures"));
        }
        if let Some(r) = &rotating {
            handover.own_dirs.push(r.dir.clone());
            handover.writable.push((r.dir.clone(), "capture files"));
        }
        if !args.no_db {
            // The database, SQLite's companions (readers write the shared-memory index) and
            // the writer lock.
            for suffix in ["", "-wal", "-shm"] {
                let mut name = args.db.as_os_str().to_owned();
                name.push(suffix);
                handover.files.push(PathBuf::from(name));
            }
            handover
                .files
                .push(crate::outputs::store::writer_lock_path(&args.db));
        }
        if let (Some(_), Some(path)) = (&anomaly, &model_path) {
            handover.files.push(path.clone());
            handover.writable.push((
                crate::privileges::parent_dir(path),
                "the learned anomaly model and the database",
            ));
        }
        crate::privileges::drop_to(user, &handover)?;
        eprintln!("wirewatch: dropped privileges to user {user}");
    }
    let started = Instant::now();
    let limit = args.duration.map(Duration::from_millis);
    // A replay ends with its file; a live capture or the demo only on an error.
    let mut announced = false;
    while !stop.load(Ordering::Relaxed) && limit.is_none_or(|l| started.elapsed() < l) {
        if monitor.source_finished() {
            if !(args.stay && server.is_some()) {
                break;
            }
            if !announced {
                eprintln!("wirewatch: the replay has ended; the dashboard stays up until Ctrl-C");
                announced = true;
            }
        }
        // The capture status is the monitor's: a source that ends on its own shows at once.
        if let Some(c) = &control {
            c.refresh();
        }
        if let Some(slot) = &anomaly {
            crate::model::save_trained(slot, model_path.as_deref());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = stop.load(Ordering::Relaxed);
    if signalled {
        eprintln!(
            "wirewatch: stopping (saving for at most {} s; Ctrl-C again to quit at once)",
            SHUTDOWN_FLUSH_WAIT.as_secs()
        );
    }
    drop(control);
    if let Some(server) = server
        && let Err(e) = server.shutdown()
    {
        eprintln!("warning: the dashboard did not stop cleanly: {e}");
    }
    let Some((engine, mut outputs)) = Arc::try_unwrap(monitor).ok().and_then(|m| m.shutdown())
    else {
        bail!("the engine thread failed");
    };
    intel.stop();
    if let Some(slot) = &anomaly {
        crate::model::save_trained(slot, model_path.as_deref());
    }
    outputs.finish();
    let mut report: AnalyzeReport = outputs.summary.into_report(&engine, Vec::new(), 10);
    if let Some(store) = store {
        // Told to stop: the disk gets a couple of seconds, the rest is counted as lost.
        // Ended on its own (a replay's end, --duration): everything is written.
        let wait = if signalled {
            SHUTDOWN_FLUSH_WAIT
        } else {
            STORE_FLUSH_WAIT
        };
        if let Err(e) = store.flush(wait) {
            let left = store.stats();
            // The writer drops what is left instead of writing it; the process does not
            // wait for the batch it may be stuck on (SQLite rolls an unfinished transaction
            // back, the file stays whole).
            store.abandon();
            std::mem::forget(store.clone());
            eprintln!(
                "warning: the database did not catch up ({e}): {} batches (about {} KiB) still \
                 queued are not written",
                left.queued,
                left.queued_bytes.div_ceil(1024)
            );
        }
        let stats = store.stats();
        if stats.batches_dropped > 0 || stats.write_errors > 0 {
            eprintln!(
                "warning: database: {} batches ({} records) dropped, {} write errors{}",
                stats.batches_dropped,
                stats.records_dropped,
                stats.write_errors,
                store
                    .last_error()
                    .map(|e| format!("; last: {e}"))
                    .unwrap_or_default()
            );
        }
        report.store = Some(stats);
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &report).context("cannot write the report")?;
        writeln!(out).context("cannot write the report")?;
    } else {
        eprintln!(
            "wirewatch: {} packets, {} bytes, {} flows, {} alerts; drops: kernel {}, interface {}, queue {}",
            report.packets,
            report.bytes,
            report.flow_table.created,
            report.alerts.len(),
            report.drops.kernel,
            report.drops.interface,
            report.drops.queue
        );
    }
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}

/// How long a run stopped by Ctrl-C/SIGTERM waits for the database before it gives up on
/// what is still queued (counted as dropped).
pub const SHUTDOWN_FLUSH_WAIT: Duration = Duration::from_secs(2);

/// Exit status when a second stop signal ends the process at once (128 + SIGINT, as shells do).
const EXIT_FORCED: i32 = 130;

/// Makes SIGINT and SIGTERM (and SIGHUP when `hangup_stops`) set `stop`; a second one while
/// stopping ends the process at once.
fn install_stop_signals(stop: &Arc<AtomicBool>, hangup_stops: bool) -> anyhow::Result<()> {
    let mut stopping = vec![signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
    if hangup_stops {
        stopping.push(signal_hook::consts::SIGHUP);
    }
    for signal in stopping {
        // Registered first, so it sees the flag as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(signal, EXIT_FORCED, stop.clone())
            .context("cannot install the Ctrl-C handler")?;
        signal_hook::flag::register(signal, stop.clone())
            .context("cannot install the Ctrl-C handler")?;
    }
    Ok(())
}

fn describe(spec: &SourceSpec) -> String {
    match spec {
        SourceSpec::Live(c) => format!(
            "capturing on {} (filter: {})",
            c.interface,
            c.filter.as_deref().unwrap_or("none")
        ),
        SourceSpec::Replay { path, speed } => format!(
            "replaying {} at {}",
            path.display(),
            match speed {
                Speed::Max => "full speed".to_string(),
                Speed::Times(x) => format!("{x}x"),
            }
        ),
        SourceSpec::Demo { seed } => format!("playing demo traffic (seed {seed})"),
    }
}
