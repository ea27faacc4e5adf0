//! `wirewatch run` (and `wirewatch` alone): live monitoring until Ctrl-C.
//!
//! [`run`] reads in order: settings, signals, history, outputs, engine, source, dashboard,
//! privileges, then the [`supervise`] loop, then the end ([`finish`]). What each step starts
//! is in [`start`].

mod finish;
mod start;
mod supervise;

use crate::analyze::AnalyzeReport;
use crate::cli::RunArgs;
use crate::dashboard::{SharedPublisher, SharedStatus};
use crate::live::{Monitor, SourceSpec, Speed};
use crate::pipeline::Sink;
use anyhow::{Context, bail};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wirewatch_capture::live::{LiveConfig, default_interface, list_interfaces};
use wirewatch_web::snapshot::snapshot_channel;

/// Chooses what to monitor from the arguments.
fn source_spec(args: &RunArgs) -> anyhow::Result<SourceSpec> {
    if let Some(path) = &args.read {
        return Ok(SourceSpec::Replay {
            path: path.clone(),
            // Writing or counting packets converts a file (as tcpdump -r does): no pacing.
            speed: args
                .speed
                .unwrap_or(if args.write.is_some() || args.count.is_some() {
                    Speed::Max
                } else {
                    Speed::Times(1.0)
                }),
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
    // Installed first: a signal while the run starts (opening the database may wait for a
    // lock) stops it cleanly too.
    let (stop, wake) =
        supervise::install_stop_signals(settings.config.intel.blocklists.is_empty())?;
    let spec = source_spec(args)?;
    say_memory_plan(&settings.memory);
    let store = start::open_history(args, &settings.config, &spec)?;
    let (publisher, snapshots) = snapshot_channel();
    let publisher: SharedPublisher = Arc::new(Mutex::new(publisher));
    let status: SharedStatus = Arc::default();
    let mut outputs = start::outputs(args, &settings, store.as_ref(), &stop, &publisher, &status)?;
    outputs.push(Box::new(supervise::SourceEndNotice(wake.sender())));
    let (engine, mut intel) = start::engine(args, &settings)?;
    let anomaly = engine.anomaly_slot();
    let model_path = (!args.no_db).then(|| crate::model::model_path_for(&args.db));
    if let (Some(slot), Some(path)) = (&anomaly, &model_path) {
        crate::model::load_into(slot, path)?;
    }
    let monitor = Arc::new(Monitor::with_engine(engine, outputs)?.with_packet_limit(args.count));
    let described = describe(&spec);
    let live_defaults = match &spec {
        SourceSpec::Live(c) => c.clone(),
        _ => live_config(args, String::new()),
    };
    monitor.start(spec)?;
    eprintln!("wirewatch: {described}; Ctrl-C to stop");
    let dashboard = start::Dashboard {
        monitor: &monitor,
        settings: &settings,
        store: store.as_ref(),
        anomaly: anomaly.as_ref(),
        model_path: model_path.as_deref(),
    };
    let (server, control) = dashboard.serve(status, publisher, snapshots, live_defaults)?;
    if let Some(user) = &args.user {
        start::drop_privileges(
            user,
            args,
            &settings,
            anomaly.as_ref().and(model_path.as_deref()),
        )?;
    }
    let signalled = supervise::Supervisor {
        stop: &stop,
        wake,
        monitor: &monitor,
        control: control.as_deref(),
        anomaly: anomaly.as_deref(),
        model_path: model_path.as_deref(),
        stay: args.stay && server.is_some(),
        limit: args.duration.map(Duration::from_millis),
    }
    .run();
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
        report.store = Some(finish::close_history(&store, signalled));
    }
    finish::print_report(&report, args.json)?;
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}

/// Says how the memory budget is spent (and that the flow table's cap was lowered to fit).
fn say_memory_plan(memory: &crate::memory::MemoryPlan) {
    if let Some(from) = memory.lowered_from {
        eprintln!(
            "warning: flows.max_flows lowered from {from} to {} to fit the memory budget; a \
             full flow table evicts the least recently active flow first (counted as evicted)",
            memory.max_flows
        );
    }
    eprintln!("wirewatch: {}", memory.describe());
}

/// How long a run stopped by Ctrl-C/SIGTERM waits for the database before it gives up on
/// what is still queued (counted as dropped).
pub const SHUTDOWN_FLUSH_WAIT: Duration = Duration::from_secs(2);

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
