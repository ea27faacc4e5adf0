//! Source threads: each pushes frames into the bounded queue to the engine thread.
//!
//! A live capture never waits for the engine: when the queue is full its batch is dropped and
//! counted. Replays and the demo wait instead (they are not real-time critical, and a replay
//! must reproduce the file exactly). Every source also sends ticks — the time it has reached
//! while no packet came — so intervals close on a quiet network too.

use super::batch::{BatchPool, FrameBatch};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wirewatch_capture::live::LiveCapture;
use wirewatch_capture::synth::Scenario;
use wirewatch_capture::{CaptureError, FileSource};
use wirewatch_core::{DropCounts, Frame, Timestamp};

/// Identifies one started source (a new one per start or interface switch).
pub type SourceId = u64;

/// What a source thread sends to the engine thread.
#[derive(Debug)]
pub enum SourceEvent {
    /// Frames, with the source's cumulative drop counts.
    Frames {
        /// The source.
        source: SourceId,
        /// The frames.
        batch: FrameBatch,
        /// Cumulative drops of this source.
        drops: DropCounts,
    },
    /// Packet time has reached `ts` with nothing more to deliver.
    Tick {
        /// The source.
        source: SourceId,
        /// The time reached.
        ts: Timestamp,
        /// Cumulative drops of this source.
        drops: DropCounts,
    },
    /// The source stopped (asked to, at the end of a file, or on an error).
    Ended {
        /// The source.
        source: SourceId,
        /// Why it stopped, when it was not asked to or reached a clean end.
        error: Option<String>,
        /// Non-fatal problems met on the way (e.g. a replayed file's oddities).
        warnings: Vec<String>,
        /// Cumulative drops of this source.
        drops: DropCounts,
    },
    /// Work to run on the engine thread between batches, with read access to the engine
    /// (e.g. copying packets out of the ring for a download).
    Call(EngineCall),
}

/// A function the engine thread runs between batches.
pub struct EngineCall(pub Box<dyn FnOnce(&crate::pipeline::Engine) + Send>);

impl std::fmt::Debug for EngineCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineCall")
    }
}

/// A batch waiting longer than this is sent even if not full, so a slow trickle of packets
/// still reaches the engine promptly.
const FLUSH_AFTER: Duration = Duration::from_millis(50);
/// Ticks from a live capture lag the clock by this much: packets stamped just before a read
/// timeout may still be on their way through the kernel.
const TICK_SLACK: Duration = Duration::from_millis(200);
/// How often a live capture reads libpcap's drop counters.
const STATS_EVERY: Duration = Duration::from_millis(250);
/// Longest sleep of a paced source between checks of its stop flag.
const PACE_STEP: Duration = Duration::from_millis(50);
/// Longest wait of a paced replay for one packet, whatever gap its timestamp claims (like
/// tcpreplay's `--maxsleep`): a capture with an hour's silence, or a timestamp fifty years
/// ahead, replays without stalling.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// What a source does when the queue to the engine is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backpressure {
    /// Drop the batch and count it (live capture: never stall the kernel ring).
    Drop,
    /// Wait for room (replay and demo).
    Block,
}

/// What is left of a run's packet count (`run -c N`), shared by every source of the run: each
/// frame a source delivers takes one, and a source finding it spent ends as at the end of a
/// file (so the run finishes cleanly, outputs flushed).
#[derive(Debug, Clone)]
pub struct PacketBudget(Arc<AtomicU64>);

impl PacketBudget {
    /// A budget of `packets` frames.
    pub fn new(packets: u64) -> Self {
        PacketBudget(Arc::new(AtomicU64::new(packets)))
    }

    /// Takes one frame from the budget; false when it is spent.
    fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Whether no frame is left.
    pub fn spent(&self) -> bool {
        self.0.load(Ordering::Relaxed) == 0
    }
}

/// The sending end a source thread writes into.
pub struct Outlet {
    tx: SyncSender<SourceEvent>,
    pool: BatchPool,
    source: SourceId,
    mode: Backpressure,
    batch: FrameBatch,
    batch_started: Option<Instant>,
    /// Cumulative drops: queue drops counted here, the rest copied from the capture.
    pub drops: DropCounts,
    /// Set once the engine side has gone away.
    closed: bool,
    /// The run's packet count, when it has one.
    budget: Option<PacketBudget>,
}

impl Outlet {
    /// An outlet for `source` into `tx`.
    pub fn new(
        tx: SyncSender<SourceEvent>,
        pool: BatchPool,
        source: SourceId,
        mode: Backpressure,
    ) -> Self {
        let batch = pool.take();
        Outlet {
            tx,
            pool,
            source,
            mode,
            batch,
            batch_started: None,
            drops: DropCounts::default(),
            closed: false,
            budget: None,
        }
    }

    /// Delivers at most what `budget` has left (shared with the run's other sources).
    pub fn with_budget(mut self, budget: Option<PacketBudget>) -> Self {
        self.budget = budget;
        self
    }

    /// Adds a frame, sending the batch when it is full or has waited long enough. A frame
    /// beyond the run's packet count is not delivered.
    pub fn push(&mut self, frame: &Frame<'_>) {
        if self.budget.as_ref().is_some_and(|b| !b.take()) {
            return;
        }
        if !self.batch.push(frame) {
            self.flush();
            self.batch.push(frame);
        }
        let started = *self.batch_started.get_or_insert_with(Instant::now);
        if self.batch.is_full() || started.elapsed() >= FLUSH_AFTER {
            self.flush();
        }
    }

    /// Sends the current batch, if any.
    pub fn flush(&mut self) {
        self.batch_started = None;
        if self.batch.is_empty() || self.closed {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, self.pool.take());
        let n = batch.len() as u64;
        let event = SourceEvent::Frames {
            source: self.source,
            batch,
            drops: self.drops,
        };
        match self.mode {
            Backpressure::Block => {
                if self.tx.send(event).is_err() {
                    self.closed = true;
                }
            }
            Backpressure::Drop => match self.tx.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Full(SourceEvent::Frames { batch, .. })) => {
                    self.drops.queue += n;
                    self.pool.give(batch);
                }
                Err(TrySendError::Full(_)) => self.drops.queue += n,
                Err(TrySendError::Disconnected(_)) => self.closed = true,
            },
        }
    }

    /// Tells the engine that time has reached `ts` (after sending what is pending).
    pub fn tick(&mut self, ts: Timestamp) {
        self.flush();
        if self.closed {
            return;
        }
        let event = SourceEvent::Tick {
            source: self.source,
            ts,
            drops: self.drops,
        };
        // A tick is only a hint: when the queue is full, the packets in it move time anyway.
        if let Err(TrySendError::Disconnected(_)) = self.tx.try_send(event) {
            self.closed = true;
        }
    }

    /// Sends what is pending and says the source has ended.
    pub fn end(mut self, error: Option<String>, warnings: Vec<String>) {
        self.flush();
        let _ = self.tx.send(SourceEvent::Ended {
            source: self.source,
            error,
            warnings,
            drops: self.drops,
        });
    }

    /// Whether the source should stop: the engine has gone away, or the run's packet count
    /// is reached.
    pub fn is_closed(&self) -> bool {
        self.closed || self.budget.as_ref().is_some_and(PacketBudget::spent)
    }
}

/// The wall clock as packet time (only the binary reads the clock).
pub fn wall_clock() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(d.as_secs(), u64::from(d.subsec_nanos()))
}

/// A request to a running live capture thread.
pub enum LiveCommand {
    /// Replace the BPF filter; the reply says whether libpcap accepted it.
    SetFilter(Option<String>, Sender<Result<(), CaptureError>>),
}

/// A running source thread.
pub struct SourceThread {
    /// The source's id.
    pub id: SourceId,
    stop: Arc<AtomicBool>,
    commands: Option<Sender<LiveCommand>>,
    join: Option<JoinHandle<()>>,
}

impl SourceThread {
    /// Sends a command to a live capture thread (`None` for other sources).
    pub fn command(&self, cmd: LiveCommand) -> Option<()> {
        self.commands.as_ref()?.send(cmd).ok()
    }

    /// Asks the thread to stop and waits for it (it ends within one read timeout).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }

    /// Whether the thread has finished on its own (end of file, error).
    pub fn is_finished(&self) -> bool {
        self.join.as_ref().is_none_or(|j| j.is_finished())
    }
}

/// Starts the capture thread of an open live capture.
pub fn spawn_live(mut cap: LiveCapture, mut outlet: Outlet) -> std::io::Result<SourceThread> {
    let stop = Arc::new(AtomicBool::new(false));
    let (cmd_tx, cmd_rx) = std::sync::mpsc::channel();
    let id = outlet.source;
    let flag = stop.clone();
    let join = std::thread::Builder::new()
        .name(format!("capture-{}", cap.interface()))
        .spawn(move || {
            let error = live_loop(&mut cap, &mut outlet, &flag, &cmd_rx);
            outlet.end(error, Vec::new());
        })?;
    Ok(SourceThread {
        id,
        stop,
        commands: Some(cmd_tx),
        join: Some(join),
    })
}

fn live_loop(
    cap: &mut LiveCapture,
    outlet: &mut Outlet,
    stop: &AtomicBool,
    commands: &Receiver<LiveCommand>,
) -> Option<String> {
    let mut last_stats = Instant::now();
    loop {
        while let Ok(LiveCommand::SetFilter(filter, reply)) = commands.try_recv() {
            // Packets already read under the old filter go first.
            outlet.flush();
            let _ = reply.send(cap.set_filter(filter.as_deref()));
        }
        if stop.load(Ordering::Relaxed) || outlet.is_closed() {
            refresh_drops(cap, outlet);
            return None;
        }
        match cap.next_frame() {
            Ok(Some(frame)) => outlet.push(&frame),
            Ok(None) => {
                let now = wall_clock();
                outlet.tick(Timestamp(
                    now.0.saturating_sub(TICK_SLACK.as_nanos() as u64),
                ));
            }
            Err(e) => {
                refresh_drops(cap, outlet);
                return Some(e.to_string());
            }
        }
        if last_stats.elapsed() >= STATS_EVERY {
            last_stats = Instant::now();
            refresh_drops(cap, outlet);
        }
    }
}

fn refresh_drops(cap: &mut LiveCapture, outlet: &mut Outlet) {
    if let Ok(s) = cap.stats() {
        outlet.drops.kernel = s.dropped_kernel;
        outlet.drops.interface = s.dropped_interface;
    }
}

/// Replay speed of a paced source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// `n` times the recorded pace (1 = as recorded).
    Times(f64),
    /// As fast as the engine takes it.
    Max,
}

/// Keeps a stream of timestamped frames on the wall clock.
struct Pacer {
    speed: Speed,
    origin: Option<(Timestamp, Instant)>,
}

impl Pacer {
    /// Waits until `ts` is due, sending ticks while it waits. False when asked to stop.
    fn wait_for(&mut self, ts: Timestamp, outlet: &mut Outlet, stop: &AtomicBool) -> bool {
        let Speed::Times(speed) = self.speed else {
            return !stop.load(Ordering::Relaxed);
        };
        let (mut origin_ts, mut origin) = *self.origin.get_or_insert((ts, Instant::now()));
        let wait = ts.since(origin_ts) as f64 / 1e9 / speed;
        let now = Instant::now();
        let mut due = if wait.is_finite() && wait < MAX_WAIT.as_secs_f64() * 1e6 {
            origin + Duration::from_secs_f64(wait)
        } else {
            now + MAX_WAIT * 2 // far beyond any schedule: cut below
        };
        // A gap in the recording (or a lying timestamp) costs at most MAX_WAIT: the schedule
        // restarts from this packet instead of sleeping through the gap, as tcpreplay's
        // --maxsleep does.
        if due > now + MAX_WAIT {
            due = now + MAX_WAIT;
            (origin_ts, origin) = (ts, due);
            self.origin = Some((origin_ts, origin));
        }
        loop {
            if stop.load(Ordering::Relaxed) || outlet.is_closed() {
                return false;
            }
            let now = Instant::now();
            if now >= due {
                return true;
            }
            let virtual_now =
                origin_ts.plus((now.duration_since(origin).as_secs_f64() * speed * 1e9) as u64);
            outlet.tick(virtual_now);
            std::thread::sleep((due - now).min(PACE_STEP));
        }
    }
}

/// Starts a thread replaying an open capture file at `speed`.
pub fn spawn_replay(
    mut file: FileSource,
    speed: Speed,
    mut outlet: Outlet,
) -> std::io::Result<SourceThread> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let id = outlet.source;
    let join = std::thread::Builder::new()
        .name("replay".into())
        .spawn(move || {
            let mut pacer = Pacer {
                speed,
                origin: None,
            };
            let mut error = None;
            loop {
                match file.next_frame() {
                    Ok(Some(frame)) => {
                        if !pacer.wait_for(frame.ts, &mut outlet, &flag) {
                            break;
                        }
                        outlet.push(&frame);
                        if outlet.is_closed() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            let mut warnings: Vec<String> = file
                .take_warnings()
                .iter()
                .map(|w| format!("{}: {w}", file.path().display()))
                .collect();
            warnings.truncate(20);
            outlet.end(error, warnings);
        })?;
    Ok(SourceThread {
        id,
        stop,
        commands: None,
        join: Some(join),
    })
}

/// Starts a thread playing the demo scenario in real time.
pub fn spawn_demo(mut scenario: Scenario, mut outlet: Outlet) -> std::io::Result<SourceThread> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let id = outlet.source;
    let join = std::thread::Builder::new()
        .name("demo".into())
        .spawn(move || {
            let mut pacer = Pacer {
                speed: Speed::Times(1.0),
                origin: None,
            };
            let mut buf = Vec::with_capacity(2048);
            loop {
                let g = scenario.next_frame(&mut buf);
                if !pacer.wait_for(g.ts, &mut outlet, &flag) {
                    break;
                }
                let frame = Frame {
                    ts: g.ts,
                    linktype: g.linktype,
                    data: &buf,
                    wire_len: g.wire_len,
                    interface: 0,
                };
                outlet.push(&frame);
                if outlet.is_closed() {
                    break;
                }
            }
            outlet.end(None, Vec::new());
        })?;
    Ok(SourceThread {
        id,
        stop,
        commands: None,
        join: Some(join),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::LinkType;

    fn frame(data: &[u8]) -> Frame<'_> {
        Frame {
            ts: Timestamp(1),
            linktype: LinkType::ETHERNET,
            data,
            wire_len: data.len() as u32,
            interface: 0,
        }
    }

    #[test]
    fn a_full_queue_drops_live_batches_and_counts_them() {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let mut outlet = Outlet::new(tx, BatchPool::default(), 7, Backpressure::Drop);
        let data = [0u8; 60];
        // Three full batches: the first fits in the queue, the next two are dropped.
        for _ in 0..3 * super::super::batch::BATCH_FRAMES {
            outlet.push(&frame(&data));
        }
        assert_eq!(
            outlet.drops.queue,
            2 * super::super::batch::BATCH_FRAMES as u64
        );
        match rx.try_recv() {
            Ok(SourceEvent::Frames { batch, source, .. }) => {
                assert_eq!(
                    (batch.len(), source),
                    (super::super::batch::BATCH_FRAMES, 7)
                );
            }
            other => panic!("expected a batch, got {other:?}"),
        }
        // Room again: the next batch carries the cumulative drop count.
        outlet.push(&frame(&data));
        outlet.flush();
        match rx.try_recv() {
            Ok(SourceEvent::Frames { drops, .. }) => assert_eq!(drops.queue, 512),
            other => panic!("expected a batch, got {other:?}"),
        }
    }

    #[test]
    fn a_spent_budget_stops_every_outlet_sharing_it() {
        let (tx, rx) = std::sync::mpsc::sync_channel(8);
        let budget = PacketBudget::new(3);
        let mut a = Outlet::new(tx.clone(), BatchPool::default(), 1, Backpressure::Block)
            .with_budget(Some(budget.clone()));
        let mut b = Outlet::new(tx, BatchPool::default(), 2, Backpressure::Block)
            .with_budget(Some(budget.clone()));
        let data = [0u8; 60];
        a.push(&frame(&data));
        a.push(&frame(&data));
        assert!(!a.is_closed());
        for _ in 0..5 {
            b.push(&frame(&data));
        }
        assert!(a.is_closed() && b.is_closed() && budget.spent());
        a.flush();
        b.flush();
        let mut delivered = 0;
        while let Ok(SourceEvent::Frames { batch, .. }) = rx.try_recv() {
            delivered += batch.len();
        }
        assert_eq!(delivered, 3);
    }

    #[test]
    fn ended_sources_say_why() {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let outlet = Outlet::new(tx, BatchPool::default(), 3, Backpressure::Block);
        outlet.end(Some("boom".into()), vec!["odd".into()]);
        match rx.try_recv() {
            Ok(SourceEvent::Ended {
                source,
                error,
                warnings,
                ..
            }) => assert_eq!(
                (source, error.as_deref(), warnings.len()),
                (3, Some("boom"), 1)
            ),
            other => panic!("expected the end, got {other:?}"),
        }
    }
}
