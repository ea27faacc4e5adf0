//! The flow table: live flows ordered by last activity, finished flows handed out as records.

use crate::config::{FlowConfig, Timeouts};
use crate::frag::FragmentPorts;
use crate::key::{FlowKey, KeySide};
use foldhash::fast::FixedState;
use hashlink::LinkedHashMap;
use wirewatch_core::flow::DirectionStats;
use wirewatch_core::proto::tcp_flags::{ACK, FIN, RST, SYN};
use wirewatch_core::{EndReason, FlowRecord, TcpState, Timestamp};
use wirewatch_decode::Packet;

/// A live flow.
#[derive(Debug, Clone)]
struct Entry {
    first_ts: Timestamp,
    last_ts: Timestamp,
    /// Counters per key side (index by `KeySide::index`).
    sides: [DirectionStats; 2],
    initiator: KeySide,
    state: TcpState,
    /// The activity epoch (interval) in which the flow last saw a packet.
    epoch: u64,
}

/// What ingesting one packet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    /// The packet started a new flow.
    pub new_flow: bool,
    /// The packet is the flow's first in the current activity epoch.
    pub first_in_epoch: bool,
    /// The packet travels from the initiator to the responder.
    pub forward: bool,
}

/// Counters of the table's life so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowTableStats {
    /// Flows live now.
    pub live: u64,
    /// Flows created.
    pub created: u64,
    /// Flows finished (all reasons, evictions included).
    pub finished: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    /// Fragment-tracking entries pushed out because that map was full.
    pub fragments_evicted: u64,
}

/// Bidirectional flows keyed by protocol and endpoint pair, with TCP state, idle and active
/// timeouts on packet time, and a hard cap with oldest-activity-first eviction.
pub struct FlowTable {
    map: LinkedHashMap<FlowKey, Entry, FixedState>,
    timeouts: Timeouts,
    max_flows: usize,
    finished: Vec<FlowRecord>,
    fragments: FragmentPorts,
    epoch: u64,
    stats: FlowTableStats,
    expired_keys: Vec<FlowKey>,
}

impl FlowTable {
    /// An empty table with the given settings (a `max_flows` of 0 is treated as 1).
    pub fn new(config: &FlowConfig) -> Self {
        FlowTable {
            map: LinkedHashMap::with_hasher(FixedState::default()),
            timeouts: Timeouts::from_config(config),
            max_flows: config.max_flows.max(1),
            finished: Vec::new(),
            fragments: FragmentPorts::default(),
            epoch: 0,
            stats: FlowTableStats::default(),
            expired_keys: Vec::new(),
        }
    }

    /// Accounts one packet of `wire_len` bytes seen at `ts`. Returns `None` when the packet
    /// belongs to no flow (not IP, or its transport header could not be decoded).
    #[inline]
    pub fn ingest(&mut self, pkt: &Packet, wire_len: u32, ts: Timestamp) -> Option<Ingested> {
        let frag_ports = self.fragment_ports(pkt, ts);
        let (key, side) = FlowKey::of_packet(pkt, frag_ports)?;
        let flags = pkt.tcp_flags();

        let mut new_flow = false;
        let mut restart = None;
        match self.map.to_back(&key) {
            Some(entry) => {
                if ts.since(entry.first_ts) >= self.timeouts.active {
                    restart = Some(EndReason::ActiveTimeout);
                } else if entry.state.is_terminal()
                    && flags.is_some_and(|f| f & SYN != 0 && f & ACK == 0)
                {
                    restart = Some(EndReason::PortReuse);
                }
            }
            None => new_flow = true,
        }
        if let Some(reason) = restart {
            if let Some(entry) = self.map.remove(&key) {
                self.finish(key, entry, reason);
            }
            new_flow = true;
        }
        if new_flow {
            if self.map.len() >= self.max_flows {
                self.evict_oldest();
            }
            let initiator = match flags {
                // A SYN-ACK as first packet: the SYN was missed; its receiver initiated.
                Some(f) if f & (SYN | ACK) == SYN | ACK => other_side(side),
                _ => side,
            };
            self.map.insert(
                key,
                Entry {
                    first_ts: ts,
                    last_ts: ts,
                    sides: [DirectionStats::default(); 2],
                    initiator,
                    state: TcpState::None,
                    epoch: self.epoch.wrapping_sub(1),
                },
            );
            self.stats.created += 1;
        }
        let epoch = self.epoch;
        let entry = self.map.get_mut(&key)?;
        if ts > entry.last_ts {
            entry.last_ts = ts;
        }
        let dir = &mut entry.sides[side.index()];
        dir.packets += 1;
        dir.bytes += u64::from(wire_len);
        dir.payload_bytes += u64::from(pkt.payload_len);
        if let Some(f) = flags {
            dir.tcp_flags |= f;
            entry.state = next_tcp_state(entry, side, f);
        }
        let first_in_epoch = entry.epoch != epoch;
        entry.epoch = epoch;
        Some(Ingested {
            new_flow,
            first_in_epoch,
            forward: side == entry.initiator,
        })
    }

    /// Ends every flow whose idle timeout has passed at `now` and queues its record.
    /// Returns how many flows ended.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        let t = self.timeouts;
        let mut keys = std::mem::take(&mut self.expired_keys);
        keys.clear();
        for (key, entry) in self.map.iter() {
            let idle = now.since(entry.last_ts);
            // The map is ordered by last activity: nothing further on can have idled longer.
            if idle < t.min_idle {
                break;
            }
            if idle >= idle_timeout(&t, key.proto, entry.state) {
                keys.push(*key);
            }
        }
        let n = keys.len();
        for key in &keys {
            if let Some(entry) = self.map.remove(key) {
                let reason = match entry.state {
                    TcpState::Closed => EndReason::Fin,
                    TcpState::Reset => EndReason::Rst,
                    _ => EndReason::IdleTimeout,
                };
                self.finish(*key, entry, reason);
            }
        }
        self.expired_keys = keys;
        n
    }

    /// Ends every live flow (end of capture) and queues the records, oldest activity first.
    pub fn finish_all(&mut self) {
        while let Some((key, entry)) = self.map.pop_front() {
            let reason = match entry.state {
                TcpState::Closed => EndReason::Fin,
                TcpState::Reset => EndReason::Rst,
                _ => EndReason::EndOfCapture,
            };
            self.finish(key, entry, reason);
        }
    }

    /// Takes the records of flows finished since the last call.
    pub fn drain_finished(&mut self) -> std::vec::Drain<'_, FlowRecord> {
        self.finished.drain(..)
    }

    /// Starts a new activity epoch (the engine calls this when an interval closes), so that
    /// `Ingested::first_in_epoch` marks the first packet of each flow in each interval.
    pub fn next_epoch(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Number of live flows.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no flow is live.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Counters of the table's life so far.
    pub fn stats(&self) -> FlowTableStats {
        FlowTableStats {
            live: self.map.len() as u64,
            fragments_evicted: self.fragments.evicted,
            ..self.stats
        }
    }

    /// Records of the live flows (most recently active first), at most `limit` of them.
    pub fn live_records(&self, limit: usize) -> Vec<FlowRecord> {
        self.map
            .iter()
            .rev()
            .take(limit)
            .map(|(k, e)| record(k, e, EndReason::EndOfCapture))
            .collect()
    }

    fn fragment_ports(&mut self, pkt: &Packet, ts: Timestamp) -> Option<(u16, u16)> {
        let frag = pkt.fragment?;
        if frag.is_first() {
            if let Some(ports) = pkt.ports() {
                self.fragments
                    .remember(pkt.src, pkt.dst, pkt.ip_proto, frag.id, ports, ts);
            }
            None
        } else {
            self.fragments
                .lookup(pkt.src, pkt.dst, pkt.ip_proto, frag.id, ts)
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((key, entry)) = self.map.pop_front() {
            self.stats.evicted += 1;
            self.finish(key, entry, EndReason::Evicted);
        }
    }

    fn finish(&mut self, key: FlowKey, entry: Entry, reason: EndReason) {
        self.stats.finished += 1;
        self.finished.push(record(&key, &entry, reason));
    }
}

fn other_side(side: KeySide) -> KeySide {
    match side {
        KeySide::LoToHi => KeySide::HiToLo,
        KeySide::HiToLo => KeySide::LoToHi,
    }
}

fn idle_timeout(t: &Timeouts, proto: u8, state: TcpState) -> u64 {
    match proto {
        6 => match state {
            TcpState::Handshake => t.tcp_handshake,
            TcpState::Closed | TcpState::Reset => t.tcp_closed,
            _ => t.tcp,
        },
        17 => t.udp,
        1 | 58 => t.icmp,
        _ => t.other,
    }
}

/// The connection state after a segment with `flags` travelling on `side`; the segment's
/// flags are already merged into `entry.sides`.
fn next_tcp_state(entry: &Entry, side: KeySide, flags: u8) -> TcpState {
    let state = entry.state;
    if state == TcpState::Reset || flags & RST != 0 {
        return TcpState::Reset;
    }
    let initiator = entry.initiator.index();
    let responder = 1 - initiator;
    let [a, b] = entry.sides;
    if a.tcp_flags & FIN != 0 && b.tcp_flags & FIN != 0 {
        return TcpState::Closed;
    }
    if flags & FIN != 0 || state == TcpState::Closing {
        return TcpState::Closing;
    }
    match state {
        TcpState::None if flags & SYN != 0 => TcpState::Handshake,
        TcpState::None => TcpState::Established,
        TcpState::Handshake => {
            let from_initiator = side.index() == initiator;
            let responder_synced = entry.sides[responder].tcp_flags & SYN != 0;
            if from_initiator && responder_synced && flags & ACK != 0 && flags & SYN == 0 {
                TcpState::Established
            } else {
                TcpState::Handshake
            }
        }
        other => other,
    }
}

fn record(key: &FlowKey, entry: &Entry, reason: EndReason) -> FlowRecord {
    let src = key.source(entry.initiator);
    let dst = key.destination(entry.initiator);
    let fwd = entry.sides[entry.initiator.index()];
    let rev = entry.sides[other_side(entry.initiator).index()];
    FlowRecord {
        ip_proto: key.proto,
        src_ip: src.addr.ip(),
        src_port: src.port,
        dst_ip: dst.addr.ip(),
        dst_port: dst.port,
        fwd,
        rev,
        first_ts: entry.first_ts,
        last_ts: entry.last_ts,
        state: entry.state,
        end_reason: reason,
    }
}
