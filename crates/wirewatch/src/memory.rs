//! The memory budget of a run (`[memory] budget_mb`).
//!
//! Everything a run keeps is capped (see ARCHITECTURE.md, "Bounded state"); this adds the
//! caps up against one budget before the run starts. Most parts are fixed by their own
//! settings (the packet ring, the queues, the database caches, the tables of talkers, names
//! and detector state). The flow table is what gives: when the parts do not fit, its cap
//! (`flows.max_flows`) is lowered until they do, and a full table then evicts the least
//! recently active flow first, counted in `flows_evicted` (every interval, the terminal line,
//! `/metrics`). A budget that cannot even hold the fixed parts and a minimal flow table is
//! refused at start.

use serde::{Deserialize, Serialize};

/// `[memory]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemorySettings {
    /// The most memory the run's bounded state may take at its caps, in MiB.
    pub budget_mb: u64,
}

impl Default for MemorySettings {
    fn default() -> Self {
        // The defaults of every part fit with room to spare (about 1,100 MiB at their caps
        // with a database and evidence, far less on an ordinary link, where the caps are
        // never reached).
        MemorySettings { budget_mb: 1280 }
    }
}

/// What one live flow costs: its table entry, key, linked-list links and hash slot, the
/// per-flow state of detectors and talkers that comes with it (measured: ~450 bytes), and the
/// TCP analysis kept inline in every entry (`wirewatch_flow::TcpTracker`, 160 bytes).
pub const FLOW_BYTES: u64 = 640;
/// The smallest flow table a budget may leave.
pub const MIN_FLOWS: usize = 10_000;
/// Per address in a talker table (address, counters, hash slot).
const TALKER_BYTES: u64 = 48;
/// Detector state at its caps (port scan sources and targets, DoS destinations, brute-force
/// slots, incidents...).
const DETECTOR_BYTES: u64 = 64 << 20;
/// Per name counted for the report (server and DNS query names).
const NAME_BYTES: u64 = 64;
/// Batches in flight between the capture and the engine: the queue plus the pool of empty
/// batches kept for reuse, each at most one batch's bytes.
const CAPTURE_BATCHES: u64 = 64 + 128 + 2;

/// One part of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// What it is.
    pub name: &'static str,
    /// Its most bytes.
    pub bytes: u64,
}

/// The budget laid out over the run's parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryPlan {
    /// The budget in bytes.
    pub budget: u64,
    /// Every part at its cap, the flow table first.
    pub parts: Vec<Part>,
    /// The flow table's cap within the budget.
    pub max_flows: usize,
    /// The configured cap, when the budget lowered it.
    pub lowered_from: Option<usize>,
}

/// What the run is made of, for [`plan`].
#[derive(Debug, Clone, Copy)]
pub struct RunShape {
    /// The configured flow table cap.
    pub max_flows: usize,
    /// The packet ring's size in bytes (0: no ring).
    pub ring_bytes: u64,
    /// A database is written.
    pub database: bool,
    /// Evidence captures or capture files are written.
    pub recording: bool,
    /// Fragment reassembly's cap in bytes (0: no reassembly).
    pub reassembly_bytes: u64,
}

/// Bytes of a half-done transaction waiting for its answer (names, answers, the box).
const TRANSACTION_BYTES: u64 = 400;

/// Lays the budget out; an error says why the budget cannot work.
pub fn plan(settings: &MemorySettings, shape: RunShape) -> anyhow::Result<MemoryPlan> {
    let mib = 1u64 << 20;
    let budget = settings.budget_mb.saturating_mul(mib);
    let talkers =
        (2 * wirewatch_metrics::totals::RUN_TALKER_CAP as u64 + 2 * 65_536) * TALKER_BYTES;
    let mut fixed = vec![
        Part {
            name: "capture queue",
            bytes: CAPTURE_BATCHES * crate::live::batch::BATCH_BYTES as u64,
        },
        Part {
            name: "talkers",
            bytes: talkers,
        },
        Part {
            name: "detectors",
            bytes: DETECTOR_BYTES,
        },
        Part {
            name: "names and report",
            bytes: 2 * wirewatch_report::names::MAX_TRACKED_NAMES as u64 * NAME_BYTES + 16 * mib,
        },
        Part {
            name: "pending transactions",
            bytes: wirewatch_flow::transactions::MAX_PENDING_TOTAL as u64 * TRANSACTION_BYTES,
        },
    ];
    if shape.reassembly_bytes > 0 {
        fixed.push(Part {
            name: "fragment reassembly",
            // What is held, and the datagram being reassembled (at most 64 KiB).
            bytes: shape.reassembly_bytes + 64 * 1024,
        });
    }
    if shape.ring_bytes > 0 {
        fixed.push(Part {
            name: "packet ring",
            // The buffer and its largest index (8 bytes per packet of at least 60).
            bytes: shape.ring_bytes + shape.ring_bytes / 60 * 8,
        });
    }
    if shape.recording {
        fixed.push(Part {
            name: "pcap writer queue",
            bytes: wirewatch_evidence::spool::SPOOL_QUEUE as u64 * mib,
        });
    }
    if shape.database {
        fixed.push(Part {
            name: "database queue",
            bytes: wirewatch_store::DEFAULT_QUEUE_BYTES,
        });
        fixed.push(Part {
            name: "database caches",
            bytes: wirewatch_store::page_cache_bytes(),
        });
    }
    let fixed_total: u64 = fixed.iter().map(|p| p.bytes).sum();
    let room = budget.saturating_sub(fixed_total) / FLOW_BYTES;
    let fits = usize::try_from(room).unwrap_or(usize::MAX);
    if fits < MIN_FLOWS {
        anyhow::bail!(
            "the memory budget ([memory] budget_mb = {}) is too small: the queues, caches and \
             tables of this run take up to {} MiB, leaving less than {} flows of {} bytes; \
             raise budget_mb, or lower [evidence] ring_mb",
            settings.budget_mb,
            fixed_total.div_ceil(mib),
            MIN_FLOWS,
            FLOW_BYTES
        );
    }
    let max_flows = shape.max_flows.min(fits);
    let mut parts = vec![Part {
        name: "flow table",
        bytes: max_flows as u64 * FLOW_BYTES,
    }];
    parts.extend(fixed);
    Ok(MemoryPlan {
        budget,
        parts,
        max_flows,
        lowered_from: (max_flows < shape.max_flows).then_some(shape.max_flows),
    })
}

impl MemoryPlan {
    /// The plan in one line, for the start of a run.
    pub fn describe(&self) -> String {
        let mib = |b: u64| b.div_ceil(1 << 20);
        let total: u64 = self.parts.iter().map(|p| p.bytes).sum();
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| format!("{} {} MiB", p.name, mib(p.bytes)))
            .collect();
        format!(
            "memory budget {} MiB, at most {} MiB at every cap ({} flows: {})",
            mib(self.budget),
            mib(total),
            self.max_flows,
            parts.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> RunShape {
        RunShape {
            max_flows: 500_000,
            ring_bytes: 64 << 20,
            database: true,
            recording: true,
            reassembly_bytes: 16 << 20,
        }
    }

    #[test]
    fn the_defaults_fit_the_default_budget() {
        let p = plan(&MemorySettings::default(), shape()).unwrap();
        assert_eq!(p.max_flows, 500_000);
        assert_eq!(p.lowered_from, None);
        let total: u64 = p.parts.iter().map(|p| p.bytes).sum();
        assert!(total <= p.budget, "{}", p.describe());
    }

    #[test]
    fn a_smaller_budget_shrinks_the_flow_table_first() {
        let p = plan(&MemorySettings { budget_mb: 1024 }, shape()).unwrap();
        assert!(
            p.max_flows < 500_000 && p.max_flows >= MIN_FLOWS,
            "{}",
            p.describe()
        );
        assert_eq!(p.lowered_from, Some(500_000));
        let total: u64 = p.parts.iter().map(|p| p.bytes).sum();
        assert!(total <= p.budget);
        assert_eq!(p.parts[0].name, "flow table");
    }

    #[test]
    fn a_budget_that_cannot_hold_the_fixed_parts_is_refused() {
        let e = plan(&MemorySettings { budget_mb: 64 }, shape()).unwrap_err();
        assert!(e.to_string().contains("too small"), "{e}");
    }
}
