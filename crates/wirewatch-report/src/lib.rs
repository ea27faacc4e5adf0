//! The report of a run or an analysis: a bounded summary of what the engine delivered
//! ([`ReportCollector`], an output like any other), the report built from it and the finished
//! engine's totals ([`AnalyzeReport`], the JSON layout of `analyze --json` and `run --json`),
//! and its text rendering ([`text`]).
//!
//! Bounded either way: a file's analysis keeps the first flows and every interval, a monitor
//! the latest ones; what a cap leaves out is counted in the report. Names in it come from the
//! network: the text rendering escapes them for the terminal.
//!
//! Must not: do I/O or read the clock (it returns values and strings; the binary prints them);
//! depend on the binary or the web layer.

pub mod names;
pub mod report;
pub mod tcp_hosts;
pub mod text;

pub use report::{AnalyzeReport, FileSummary};

use std::path::PathBuf;
use wirewatch_core::{
    Alert, FlowRecord, IncidentStatus, IntervalMetrics, Transaction, TransactionDetails,
};
use wirewatch_engine::{Engine, Sink};

/// Default cap on flows listed in a report: a million records is about 150 MB, enough for any
/// ordinary capture; beyond it flows are still counted in totals and intervals.
pub const DEFAULT_MAX_REPORT_FLOWS: usize = 1_000_000;

/// Something worth telling the user that did not stop the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The file concerned.
    pub path: PathBuf,
    /// One-line message (without the path).
    pub message: String,
}

/// At most this many warnings per file are reported one by one; the rest are counted.
pub const MAX_NOTICES_PER_FILE: usize = 20;

/// Collects the engine's output into a report.
///
/// Two ways to bound it: [`ReportCollector::new`] (analysis of files) keeps the first
/// `max_flows` flows and every interval, as a report of a finite capture should;
/// [`ReportCollector::rolling`] (a monitor that may run for months) keeps only the latest
/// flows and intervals, so its memory never grows with uptime. Totals (packets, protocols,
/// talkers, applications) come from the engine's running counters either way.
#[derive(Default)]
pub struct ReportCollector {
    /// Closed intervals (all of them, or the latest `max_intervals` when rolling).
    pub intervals: std::collections::VecDeque<IntervalMetrics>,
    /// Finished flows: the first `max_flows`, or the latest ones when rolling.
    pub flows: std::collections::VecDeque<FlowRecord>,
    /// The cap on kept flows.
    pub max_flows: usize,
    /// Flows beyond the cap.
    pub flows_omitted: u64,
    /// The cap on kept intervals (`usize::MAX`: every interval).
    pub max_intervals: usize,
    /// Intervals not kept because of the cap.
    pub intervals_omitted: u64,
    /// Keep the latest flows and intervals (dropping the oldest) instead of the first ones.
    pub rolling: bool,
    /// The cap on kept alerts.
    pub max_alerts: usize,
    /// Application totals over every flow (also those beyond the cap).
    pub app_totals: names::AppTotals,
    /// Problems sources reported that did not stop them.
    pub warnings: Vec<String>,
    /// Errors that stopped a source.
    pub errors: Vec<String>,
    /// Alerts by id, each in its latest state (bounded by `MAX_REPORT_ALERTS`).
    pub alerts: std::collections::BTreeMap<u64, Alert>,
    /// Alerts not kept because of the cap.
    pub alerts_omitted: u64,
    /// DNS, HTTP and TLS/QUIC transactions (the first or, rolling, the latest of each kind).
    pub transactions: TransactionLists,
    /// The cap on kept transactions of each kind.
    pub max_transactions: usize,
    /// TCP health per host over every flow (also those beyond the cap).
    pub tcp_hosts: tcp_hosts::TcpHosts,
}

/// The transactions a report lists, by kind, and how many it leaves out.
#[derive(Debug, Default)]
pub struct TransactionLists {
    /// DNS, HTTP and TLS/QUIC, in that order.
    pub kept: [std::collections::VecDeque<Transaction>; 3],
    /// Transactions not kept because of the cap.
    pub omitted: u64,
}

impl TransactionLists {
    /// Puts them into `report` (`dns`, `http`, `tls`), adding those left out to its count.
    pub fn fill(self, report: &mut AnalyzeReport) {
        let [dns, http, tls] = self.kept;
        report.dns = dns.into();
        report.http = http.into();
        report.tls = tls.into();
        report.transactions_omitted += self.omitted;
    }
}

/// At most this many transactions of each kind (DNS, HTTP, TLS) are kept for a file's
/// report; the rest are counted.
pub const MAX_REPORT_TRANSACTIONS: usize = 100_000;

/// Transactions of each kind a monitor's exit report keeps (the latest).
pub const RUN_REPORT_TRANSACTIONS: usize = 1_000;

/// The slot of a transaction's kind in [`ReportCollector::transactions`].
fn kind_slot(t: &Transaction) -> usize {
    match t.details {
        TransactionDetails::Dns(_) => 0,
        TransactionDetails::Http(_) => 1,
        TransactionDetails::Tls(_) => 2,
    }
}

/// At most this many alerts are kept for a report (the detection engine's own rate limits
/// keep real runs far below it).
pub const MAX_REPORT_ALERTS: usize = 10_000;

impl ReportCollector {
    /// An empty collector keeping the first `max_flows` flows and every interval.
    pub fn new(max_flows: usize) -> Self {
        ReportCollector {
            max_flows,
            max_intervals: usize::MAX,
            max_alerts: MAX_REPORT_ALERTS,
            max_transactions: MAX_REPORT_TRANSACTIONS,
            ..ReportCollector::default()
        }
    }

    /// An empty collector keeping only the latest `max_flows` flows, `max_intervals`
    /// intervals and `max_alerts` alerts: bounded at any uptime (`wirewatch run`).
    pub fn rolling(max_flows: usize, max_intervals: usize, max_alerts: usize) -> Self {
        ReportCollector {
            max_flows,
            max_intervals,
            max_alerts,
            max_transactions: RUN_REPORT_TRANSACTIONS,
            rolling: true,
            ..ReportCollector::default()
        }
    }

    /// Keeps a copy of `item` in `kept` within `cap`: the first ones, or the latest ones when
    /// rolling (an item left out is never copied). Returns whether something was left out.
    fn keep<T: Clone>(
        kept: &mut std::collections::VecDeque<T>,
        item: &T,
        cap: usize,
        rolling: bool,
    ) -> bool {
        if kept.len() < cap {
            kept.push_back(item.clone());
            return false;
        }
        if rolling && cap > 0 {
            kept.pop_front();
            kept.push_back(item.clone());
        }
        true
    }

    /// Builds the report from what was collected and the finished engine's totals.
    pub fn into_report(
        mut self,
        engine: &Engine,
        files: Vec<FileSummary>,
        top_n: usize,
    ) -> AnalyzeReport {
        let notice = |message: String| Notice {
            path: PathBuf::new(),
            message,
        };
        let transactions = std::mem::take(&mut self.transactions);
        let mut report = report::build(
            engine,
            self.intervals.into(),
            self.flows.into(),
            self.flows_omitted,
            files,
            self.errors.into_iter().map(notice).collect(),
            self.warnings.into_iter().map(notice).collect(),
            top_n,
            &self.app_totals,
            &self.tcp_hosts,
        );
        transactions.fill(&mut report);
        report.alerts = self.alerts.into_values().collect();
        report.intervals_omitted = self.intervals_omitted;
        report.alerts_omitted = self.alerts_omitted;
        report
    }
}

impl Sink for ReportCollector {
    fn transaction(&mut self, transaction: &Transaction) {
        let kept = &mut self.transactions.kept[kind_slot(transaction)];
        if Self::keep(kept, transaction, self.max_transactions, self.rolling) {
            self.transactions.omitted += 1;
        }
    }

    fn interval(&mut self, metrics: &IntervalMetrics) {
        if Self::keep(
            &mut self.intervals,
            metrics,
            self.max_intervals,
            self.rolling,
        ) {
            self.intervals_omitted += 1;
        }
    }

    fn flow(&mut self, record: &FlowRecord) {
        self.app_totals.add(record);
        self.tcp_hosts.add(record);
        if Self::keep(&mut self.flows, record, self.max_flows, self.rolling) {
            self.flows_omitted += 1;
        }
    }

    fn alert(&mut self, alert: &Alert, _status: IncidentStatus) {
        if self.alerts.len() < self.max_alerts || self.alerts.contains_key(&alert.id) {
            self.alerts.insert(alert.id, alert.clone());
        } else if self.rolling && self.max_alerts > 0 {
            // A monitor keeps the latest alerts: the oldest (lowest id) goes.
            self.alerts.pop_first();
            self.alerts.insert(alert.id, alert.clone());
            self.alerts_omitted += 1;
        } else {
            self.alerts_omitted += 1;
        }
    }

    fn warning(&mut self, message: &str) {
        if self.warnings.len() < MAX_NOTICES_PER_FILE {
            self.warnings.push(message.to_string());
        }
    }

    fn error(&mut self, message: &str) {
        if self.errors.len() < MAX_NOTICES_PER_FILE {
            self.errors.push(message.to_string());
        }
    }
}
