//! The recorder on the engine thread: feeds the ring, starts an evidence capture when an alert
//! opens, adds the packets that follow until its window ends, and feeds the rotating files.

use super::batch::PacketBatch;
use super::filter::PacketFilter;
use super::ring::{PacketMeta, PacketRing, RingStats};
use super::spool::{Job, Spool, Target, evidence_file_name};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use wirewatch_core::IncidentStatus;
use wirewatch_core::{Alert, Frame, Timestamp};
use wirewatch_decode::Packet;

/// How evidence captures are cut.
#[derive(Debug, Clone)]
pub struct CaptureRules {
    /// Where evidence files go (none: no evidence captures, the ring only).
    pub dir: Option<PathBuf>,
    /// Nanoseconds of packets kept before the alert's first evidence.
    pub before_ns: u64,
    /// Nanoseconds of packets added after the alert's latest evidence at opening.
    pub after_ns: u64,
    /// The most captured bytes one evidence file gets.
    pub max_file_bytes: u64,
    /// The most evidence captures open at once; more alerts get none (counted).
    pub max_open: usize,
}

/// What the recorder has done, for reports and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EvidenceStats {
    /// The ring.
    pub ring: RingStats,
    /// Where evidence files go.
    pub dir: Option<PathBuf>,
    /// Evidence captures started.
    pub captures_started: u64,
    /// Evidence captures still collecting packets.
    pub captures_open: u64,
    /// Alerts that got no evidence capture because too many were open.
    pub captures_skipped: u64,
    /// Evidence captures that failed (file not created, cut by a write error, packets left
    /// out by a writer that fell behind); their alerts say `complete: false` and why.
    pub captures_failed: u64,
    /// Evidence files created by the writer.
    pub files_written: u64,
    /// Packets written to evidence files.
    pub packets_written: u64,
    /// Old evidence files deleted to stay under the total size.
    pub files_deleted: u64,
    /// Packets written to rotating capture files.
    pub rotating_packets: u64,
    /// Rotating capture files created.
    pub rotating_files: u64,
    /// Rotating capture files deleted (count or total cap).
    pub rotating_deleted: u64,
    /// Write errors.
    pub write_errors: u64,
    /// Writes dropped because the writer fell behind (live monitoring only).
    pub queue_drops: u64,
    /// The last write error.
    pub last_error: Option<String>,
}

/// An evidence capture as the alert links it (`evidence.pcap`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvidenceLink {
    /// The file name inside the evidence directory.
    pub file: String,
    /// The full path.
    pub path: String,
    /// The window's first instant (packet time, inclusive).
    pub from: Timestamp,
    /// The window's last instant (packet time, inclusive).
    pub until: Timestamp,
    /// The hosts whose packets it holds (empty: every packet in the window).
    pub hosts: Vec<IpAddr>,
    /// Packets added so far.
    pub packets: u64,
    /// Captured bytes added so far.
    pub bytes: u64,
    /// The window has ended (or the run did): the file is final.
    pub complete: bool,
    /// The ring had already overwritten packets of the window's start.
    pub missing_before: bool,
    /// Packets left out because the file reached its size cap.
    pub truncated: u64,
    /// Why the capture failed (it is then never `complete`): the file could not be created
    /// or written, or packets were left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

struct Capture {
    id: u64,
    /// The hosts and the window (`from` and `until` always set).
    filter: PacketFilter,
    batch: PacketBatch,
}

impl Capture {
    /// The window's last instant.
    fn until(&self) -> Timestamp {
        self.filter.until.unwrap_or(Timestamp(u64::MAX))
    }

    /// Hands what is batched to the writer.
    fn hand_on(&mut self, spool: &Spool) {
        if !self.batch.is_empty() {
            spool.send(Job::Write(Target::Evidence(self.id), self.batch.take()));
        }
    }
}

/// At most this many alert links are remembered (the oldest whose capture is closed go first).
const MAX_LINKS: usize = 4096;

/// Evidence and capture-file recording on the engine thread.
pub struct EvidenceRecorder {
    /// Owned by the engine thread alone: no lock on the hot path (others reach it through
    /// `Monitor::run_on_engine`).
    ring: PacketRing,
    rules: CaptureRules,
    open: Vec<Capture>,
    links: BTreeMap<u64, EvidenceLink>,
    rotating: Option<PacketBatch>,
    spool: Spool,
    started: u64,
    skipped: u64,
    failed: u64,
    /// Failures to tell the user (taken by the engine for its sink), bounded.
    warnings: Vec<String>,
}

/// Failed captures said one by one per run; later ones are counted (`captures_failed`).
const MAX_FAILURE_WARNINGS: u64 = 20;

impl EvidenceRecorder {
    /// A recorder with a ring of `ring_bytes`, writing through `spool` (which also decides
    /// whether writes wait or drop). `rotating`: feed the spool's rotating files.
    pub fn new(ring_bytes: usize, rules: CaptureRules, spool: Spool, rotating: bool) -> Self {
        EvidenceRecorder {
            ring: PacketRing::new(ring_bytes),
            rules,
            open: Vec::new(),
            links: BTreeMap::new(),
            rotating: rotating.then(PacketBatch::default),
            spool,
            started: 0,
            skipped: 0,
            failed: 0,
            warnings: Vec::new(),
        }
    }

    /// Marks alert `id`'s capture failed (incomplete, with the reason) and says so once.
    fn mark_failed(&mut self, id: u64, message: String) {
        let Some(link) = self.links.get_mut(&id) else {
            return;
        };
        link.complete = false;
        if link.error.is_some() {
            return;
        }
        link.error = Some(message.clone());
        self.failed += 1;
        if self.failed <= MAX_FAILURE_WARNINGS {
            self.warnings.push(format!(
                "evidence capture of alert {id} is incomplete: {message}"
            ));
            if self.failed == MAX_FAILURE_WARNINGS {
                self.warnings.push(
                    "further failed evidence captures are counted (evidence.captures_failed), \
                     not listed"
                        .to_string(),
                );
            }
        }
    }

    /// Takes the failures the writer thread reported into the alerts' links.
    fn absorb_failures(&mut self) {
        let failures = match self.spool.counters().failures.lock() {
            Ok(mut f) if !f.is_empty() => std::mem::take(&mut *f),
            _ => return,
        };
        for (id, message) in failures {
            self.mark_failed(id, message);
        }
    }

    /// What the user should hear about (failed captures) since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.absorb_failures();
        std::mem::take(&mut self.warnings)
    }

    /// The evidence capture of alert `id` as it stands now (while remembered).
    pub fn link(&self, id: u64) -> Option<&EvidenceLink> {
        self.links.get(&id)
    }

    /// The ring, for exports.
    pub fn ring(&self) -> &PacketRing {
        &self.ring
    }

    /// A packet was processed (after any alert it made an interval close on).
    pub fn packet(&mut self, frame: &Frame<'_>, pkt: &Packet) {
        let meta = PacketMeta::of(frame, pkt);
        self.ring.push(&meta, frame.data);
        if !self.open.is_empty() {
            self.add_to_captures(&meta, frame.data);
        }
        if let Some(batch) = &mut self.rotating {
            batch.push(&meta, frame.data);
            if batch.is_full() {
                self.spool.send(Job::Write(Target::Rotating, batch.take()));
            }
        }
    }

    fn add_to_captures(&mut self, meta: &PacketMeta, data: &[u8]) {
        self.close_expired(meta.ts);
        for c in &mut self.open {
            if c.filter.matches(meta) {
                add(
                    c,
                    &mut self.links,
                    &self.spool,
                    self.rules.max_file_bytes,
                    meta,
                    data,
                );
            }
        }
    }

    /// Ends the captures whose window is over at `now`.
    fn close_expired(&mut self, now: Timestamp) {
        let mut i = 0;
        while i < self.open.len() {
            if now > self.open[i].until() {
                let c = self.open.swap_remove(i);
                self.close(c);
            } else {
                i += 1;
            }
        }
    }

    /// An alert event: starts the evidence capture of a newly opened alert and links the
    /// capture from the alert's evidence (`evidence.pcap`).
    pub fn alert(&mut self, alert: &mut Alert, status: IncidentStatus) {
        if status == IncidentStatus::Opened && !self.links.contains_key(&alert.id) {
            self.start(alert);
        }
        self.absorb_failures();
        if let Some(link) = self.links.get(&alert.id)
            && let Some(evidence) = alert.evidence.as_object_mut()
            && let Ok(v) = serde_json::to_value(link)
        {
            evidence.insert("pcap".into(), v);
        }
    }

    fn start(&mut self, alert: &Alert) {
        let Some(dir) = &self.rules.dir else {
            return;
        };
        if self.open.len() >= self.rules.max_open {
            self.skipped += 1;
            return;
        }
        let mut hosts: Vec<IpAddr> = alert
            .sources
            .iter()
            .chain(&alert.targets)
            .copied()
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        let from = Timestamp(alert.start_ts.0.saturating_sub(self.rules.before_ns));
        let until = alert.last_ts.plus(self.rules.after_ns);
        let file = evidence_file_name(alert.id);
        let path = dir.join(&file);
        let filter = PacketFilter {
            hosts: hosts.iter().copied().map(ipnet::IpNet::from).collect(),
            from: Some(from),
            until: Some(until),
            ..PacketFilter::default()
        };
        if self.links.len() >= MAX_LINKS {
            let open = &self.open;
            if let Some(oldest) = self
                .links
                .keys()
                .copied()
                .find(|id| !open.iter().any(|c| c.id == *id))
            {
                self.links.remove(&oldest);
            }
        }
        let ring = &self.ring;
        let missing_before = ring.may_miss_since(from);
        self.links.insert(
            alert.id,
            EvidenceLink {
                file,
                path: path.display().to_string(),
                from,
                until,
                hosts,
                packets: 0,
                bytes: 0,
                complete: false,
                missing_before,
                truncated: 0,
                error: None,
            },
        );
        self.started += 1;
        // Created here, not by the writer: a directory the process cannot write (after a
        // privilege drop, say) shows on the alert's first event, not never.
        match std::fs::File::create(&path) {
            Ok(file) => {
                self.spool.send(Job::Open {
                    id: alert.id,
                    path,
                    file,
                });
            }
            Err(e) => {
                self.mark_failed(alert.id, format!("cannot create {}: {e}", path.display()));
                return;
            }
        }
        let mut capture = Capture {
            id: alert.id,
            filter,
            batch: PacketBatch::default(),
        };
        for (meta, data) in ring.iter() {
            if capture.filter.matches(&meta) {
                add(
                    &mut capture,
                    &mut self.links,
                    &self.spool,
                    self.rules.max_file_bytes,
                    &meta,
                    data,
                );
            }
        }
        self.open.push(capture);
    }

    fn close(&mut self, mut c: Capture) {
        c.hand_on(&self.spool);
        self.spool.send(Job::Close(c.id));
        if let Some(link) = self.links.get_mut(&c.id) {
            link.complete = link.error.is_none();
        }
    }

    /// An interval closed at `end`: ends the captures whose window is over (a quiet network
    /// sends no packet to do it) and hands on what is batched, so files trail by at most an
    /// interval.
    pub fn interval_closed(&mut self, end: Timestamp) {
        self.close_expired(end);
        self.flush();
    }

    /// Hands on everything batched and has the writer push it to the files (which stay open):
    /// at each interval end, and when a source ends.
    pub fn flush(&mut self) {
        for c in &mut self.open {
            c.hand_on(&self.spool);
        }
        if let Some(batch) = &mut self.rotating
            && !batch.is_empty()
        {
            self.spool.send(Job::Write(Target::Rotating, batch.take()));
        }
        if !self.open.is_empty() || self.rotating.is_some() {
            self.spool.send(Job::Flush);
        }
    }

    /// Ends every capture (their windows are cut by the end of the data) and waits for the
    /// writer to finish every file.
    pub fn finish(&mut self) {
        for c in std::mem::take(&mut self.open) {
            self.close(c);
        }
        self.flush();
        self.spool.finish();
        self.absorb_failures();
    }

    /// The counters.
    pub fn stats(&self) -> EvidenceStats {
        let c = self.spool.counters();
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        EvidenceStats {
            ring: self.ring.stats(),
            dir: self.rules.dir.clone(),
            captures_started: self.started,
            captures_open: self.open.len() as u64,
            captures_skipped: self.skipped,
            captures_failed: self.failed,
            files_written: get(&c.evidence_files),
            packets_written: get(&c.evidence_packets),
            files_deleted: get(&c.evidence_deleted),
            rotating_packets: get(&c.rotating_packets),
            rotating_files: get(&c.rotating_files),
            rotating_deleted: get(&c.rotating_deleted),
            write_errors: get(&c.write_errors),
            queue_drops: get(&c.queue_drops),
            last_error: c.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}

/// Adds a packet to a capture unless its file is full; hands the batch on when it fills.
fn add(
    c: &mut Capture,
    links: &mut BTreeMap<u64, EvidenceLink>,
    spool: &Spool,
    max_file_bytes: u64,
    meta: &PacketMeta,
    data: &[u8],
) {
    let Some(link) = links.get_mut(&c.id) else {
        return;
    };
    if link.bytes + data.len() as u64 > max_file_bytes {
        link.truncated += 1;
        return;
    }
    link.packets += 1;
    link.bytes += data.len() as u64;
    c.batch.push(meta, data);
    if c.batch.is_full() {
        c.hand_on(spool);
    }
}
