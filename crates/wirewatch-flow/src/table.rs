//! The flow table: live flows ordered by last activity, finished flows handed out as records.

use crate::app::{AppState, Payload};
use crate::config::{FlowConfig, Timeouts};
use crate::features::{FlowFeatureAcc, PacketObs, TcpObs};
use crate::frag::FragmentPorts;
use crate::hostnames::HostNames;
use crate::key::{FlowKey, KeySide};
use crate::reassembly::{Outcome, Reassembled, Reassembler, ReassemblyStats};
use crate::tcp_health::{SegmentFields, TcpSegment, TcpTracker};
use crate::transactions::{Ends, TransactionLog};
use foldhash::fast::FixedState;
use hashlink::LinkedHashMap;
use hashlink::linked_hash_map::RawEntryMut;
use std::collections::VecDeque;
use wirewatch_core::AppProto;
use wirewatch_core::flow::DirectionStats;
use wirewatch_core::proto::tcp_flags::{ACK, FIN, RST, SYN};
use wirewatch_core::{
    EndReason, FlowRecord, LinkType, TcpHealth, TcpState, Timestamp, Transaction, TunnelParent,
};
use wirewatch_decode::Packet;
use wirewatch_decode::app::dns::DnsMessage;

/// A live flow.
#[derive(Debug, Clone)]
struct Entry {
    first_ts: Timestamp,
    last_ts: Timestamp,
    /// When the entry was last moved to the back of the activity order (at most once per
    /// `REORDER_GRANULARITY_NS`); the table is ordered by this, and `last_ts >= order_ts`.
    order_ts: Timestamp,
    /// Counters per key side (index by `KeySide::index`).
    sides: [DirectionStats; 2],
    initiator: KeySide,
    state: TcpState,
    /// The activity epoch (interval) in which the flow last saw a packet.
    epoch: u64,
    /// Application label and names.
    app: AppState,
    /// CICFlowMeter feature accumulator, when the table computes flow features.
    cic: Option<Box<FlowFeatureAcc>>,
    /// TCP sequence analysis (handshake RTT, retransmissions, ...), for TCP flows only. Kept
    /// inline: a separate allocation would cost a cache miss on every segment.
    tcp: Option<TcpTracker>,
    /// The tunnel the flow travels in, when it does.
    tunnel: Option<Box<TunnelParent>>,
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
    /// The flow's application protocol after this packet (payload or port guess).
    pub app: AppProto,
    /// The packet is the responder's first in this flow (an answer to the initiator).
    pub first_reply: bool,
    /// The packet completed the TCP three-way handshake: the initiator's first ACK (without
    /// SYN or RST) while the handshake was open, the SYN-ACK captured or not.
    pub handshake_completed: bool,
    /// What the TCP analysis made of the segment (retransmission, out of order, the handshake
    /// RTT it completed, ...); empty for other protocols.
    pub tcp: TcpSegment,
}

/// One live TCP connection as [`FlowTable::live_tcp`] sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveTcp {
    /// The flow's key, for [`FlowTable::live_record`].
    pub key: FlowKey,
    /// The initiator's address.
    pub src: std::net::IpAddr,
    /// The responder's address.
    pub dst: std::net::IpAddr,
    /// Its last packet.
    pub last_ts: Timestamp,
    /// Its TCP health so far.
    pub health: TcpHealth,
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
    /// Addresses with a host name learned from DNS answers.
    pub host_names: u64,
    /// Host names pushed out because that cache was full.
    pub host_names_evicted: u64,
    /// Transactions logged (DNS, HTTP, TLS, QUIC).
    pub transactions: u64,
    /// Transactions not logged because their flow reached `max_transactions_per_flow`.
    pub transactions_omitted: u64,
    /// Fragment reassembly: fragments, datagrams, drops by reason, overlap signals.
    pub reassembly: ReassemblyStats,
}

/// A datagram reassembled from fragments: its decoded summary and its bytes.
#[derive(Debug, Clone)]
pub struct ReassembledPacket {
    /// The decoded datagram (read from [`Reassembled::bytes`] as a raw IP packet).
    pub packet: Packet,
    /// The datagram and what its reassembly saw.
    pub datagram: Reassembled,
}

impl ReassembledPacket {
    /// The captured transport payload of the datagram.
    pub fn payload(&self) -> &[u8] {
        self.packet.payload(&self.datagram.bytes)
    }
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
    /// Connections that reached FIN/FIN or RST, oldest first, with the time they did: their
    /// short linger is served from here, not by scanning the table. Holds at most `max_flows`.
    closing: VecDeque<(FlowKey, Timestamp)>,
    /// The next packet time at which `expire` scans the table for idle flows.
    next_scan: Timestamp,
    /// Whether payloads are inspected for the application protocol and names.
    inspect: bool,
    /// Whether flows are keyed by their outermost VLAN id too.
    vlan_in_key: bool,
    /// Whether CICFlowMeter features are computed for each flow.
    features: bool,
    /// Whether TCP flows track their health (`FlowConfig::tcp_health`).
    tcp_health: bool,
    /// Host names learned from DNS answers.
    names: HostNames,
    /// The DNS message decoded from the last ingested packet, for the detectors.
    last_dns: Option<DnsMessage>,
    /// Transactions ready for the engine ([`FlowTable::drain_transactions`]) and their bounds.
    transactions: TransactionLog,
    /// IP fragment reassembly, when on.
    reassembler: Option<Reassembler>,
}

/// A flow moves to the back of the activity order at most once per this many nanoseconds
/// (1 s): eviction and the idle scan see activity to within a second.
pub const REORDER_GRANULARITY_NS: u64 = 1_000_000_000;

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
            closing: VecDeque::new(),
            next_scan: Timestamp(0),
            inspect: config.app_decoding,
            vlan_in_key: config.vlan_in_key,
            features: config.flow_features,
            tcp_health: config.tcp_health,
            names: HostNames::new(if config.app_decoding {
                config.max_host_names
            } else {
                0
            }),
            last_dns: None,
            transactions: TransactionLog::new(config.max_transactions_per_flow),
            reassembler: config
                .ip_reassembly
                .then(|| Reassembler::new(&config.reassembly)),
        }
    }

    /// Accounts one packet of `wire_len` bytes seen at `ts`, without looking at its payload.
    /// Returns `None` when the packet belongs to no flow (not IP, or its transport header could
    /// not be decoded).
    #[inline]
    pub fn ingest(&mut self, pkt: &Packet, wire_len: u32, ts: Timestamp) -> Option<Ingested> {
        self.ingest_with_payload(pkt, &[], wire_len, ts)
    }

    /// Accounts one packet like [`FlowTable::ingest`] and, while the flow is being classified,
    /// inspects its captured transport `payload` for the application protocol and names (a DNS
    /// message found is kept for [`FlowTable::take_dns`]).
    #[inline]
    pub fn ingest_with_payload(
        &mut self,
        pkt: &Packet,
        payload: &[u8],
        wire_len: u32,
        ts: Timestamp,
    ) -> Option<Ingested> {
        self.last_dns = None;
        let frag_ports = if pkt.fragment.is_some() {
            self.fragment_ports(pkt, ts)
        } else {
            None
        };
        let (mut key, side) = FlowKey::of_packet(pkt, frag_ports)?;
        if self.vlan_in_key {
            key = key.on_vlan_of(pkt);
        }
        let flags = pkt.tcp_flags();
        // Make room before looking the key up, so one lookup serves the packet.
        if self.map.len() >= self.max_flows && !self.map.contains_key(&key) {
            self.evict_oldest();
        }
        let epoch = self.epoch;
        let ports = pkt.ports().unwrap_or((0, 0));
        let features = self.features;
        let tcp_health = self.tcp_health && key.proto == wirewatch_core::proto::IPPROTO_TCP;
        let fresh = |initiator| Entry {
            first_ts: ts,
            last_ts: ts,
            order_ts: ts,
            sides: [DirectionStats::default(); 2],
            initiator,
            state: TcpState::None,
            epoch: epoch.wrapping_sub(1),
            app: if initiator == side {
                AppState::new(key.proto, ports.0, ports.1)
            } else {
                AppState::new(key.proto, ports.1, ports.0)
            },
            cic: features.then(|| {
                let responder_port = if initiator == side { ports.1 } else { ports.0 };
                Box::new(FlowFeatureAcc::new(responder_port))
            }),
            tcp: tcp_health.then(TcpTracker::new),
            tunnel: None,
        };
        // A SYN-ACK as first packet: the SYN was missed; its receiver initiated.
        let initiator = match flags {
            Some(f) if f & (SYN | ACK) == SYN | ACK => other_side(side),
            _ => side,
        };
        let mut ended = None;
        let (entry, new_flow) = match self.map.raw_entry_mut().from_key(&key) {
            RawEntryMut::Occupied(mut o) => {
                // Relinking touches two neighbouring entries (cache misses on a big table):
                // do it at most once per granule, which keeps the order within a second.
                if ts.since(o.get().order_ts) >= REORDER_GRANULARITY_NS {
                    o.to_back();
                    o.get_mut().order_ts = ts;
                }
                let entry = o.into_mut();
                let reason = if ts.since(entry.first_ts) >= self.timeouts.active {
                    Some(EndReason::ActiveTimeout)
                } else if entry.state.is_terminal()
                    && flags.is_some_and(|f| f & SYN != 0 && f & ACK == 0)
                {
                    Some(EndReason::PortReuse)
                } else {
                    None
                };
                match reason {
                    Some(reason) => {
                        let old = std::mem::replace(entry, fresh(initiator));
                        ended = Some((old, reason));
                        (entry, true)
                    }
                    None => (entry, false),
                }
            }
            RawEntryMut::Vacant(v) => (v.insert(key, fresh(initiator)).1, true),
        };
        if ts > entry.last_ts {
            entry.last_ts = ts;
        }
        let dir = &mut entry.sides[side.index()];
        dir.packets += 1;
        dir.bytes += u64::from(wire_len);
        dir.payload_bytes += u64::from(pkt.payload_len);
        if pkt.payload_len > 0 {
            dir.payload_packets += 1;
            if pkt.payload_len == dir.last_payload_len
                && pkt.payload_len <= wirewatch_core::flow::SMALL_PAYLOAD
            {
                dir.repeated_small_payloads += 1;
            }
            dir.last_payload_len = pkt.payload_len;
        }
        let side_packets = dir.packets;
        let mut became_terminal = false;
        let mut handshake_completed = false;
        if let Some(f) = flags {
            // The initiator's first ACK (no SYN, no RST) while the handshake is open completes
            // it from the client's side, whether or not the SYN-ACK was captured (a capture of
            // one direction sees the client's ACK but never the server's answer).
            let first_ack = dir.tcp_flags & ACK == 0;
            dir.tcp_flags |= f;
            let next = next_tcp_state(entry, side, f);
            became_terminal = next.is_terminal() && !entry.state.is_terminal();
            handshake_completed = entry.state == TcpState::Handshake
                && side == entry.initiator
                && first_ack
                && f & (SYN | ACK | RST) == ACK;
            entry.state = next;
        }
        let mut tcp = TcpSegment::default();
        if let (Some(tracker), wirewatch_decode::Transport::Tcp(t)) =
            (&mut entry.tcp, &pkt.transport)
        {
            // Wireshark does not analyse a segment whose header length is bogus.
            if usize::from(t.header_len) >= 20 {
                let fields = SegmentFields {
                    seq: t.seq,
                    ack: t.ack,
                    flags: t.flags,
                    window: t.window,
                    len: pkt.payload_len,
                };
                tcp = tracker.on_segment(side.index(), &fields, ts);
            }
        }
        let first_in_epoch = entry.epoch != epoch;
        entry.epoch = epoch;
        let forward = side == entry.initiator;
        if let Some(acc) = &mut entry.cic {
            acc.on_packet(&packet_obs(pkt, ts, forward));
        }
        if self.inspect && !payload.is_empty() && entry.app.wants(ports) {
            let p = Payload {
                ip_proto: key.proto,
                ports,
                forward,
                bytes: payload,
                tcp_seq: tcp_seq(pkt),
            };
            let mut out = self.transactions.outbox(ts, ends(&key, entry.initiator));
            self.last_dns = entry.app.inspect(&p, &mut self.names, &mut out);
        }
        let app = entry.app.label.proto;
        let last_ts = entry.last_ts;
        if new_flow {
            self.stats.created += 1;
        }
        if let Some((old, reason)) = ended {
            self.finish(key, old, reason);
        }
        if became_terminal && self.closing.len() < self.max_flows {
            self.closing.push_back((key, last_ts));
        }
        Some(Ingested {
            new_flow,
            first_in_epoch,
            forward,
            app,
            first_reply: !forward && side_packets == 1,
            handshake_completed,
            tcp,
        })
    }

    /// Ends every flow whose idle timeout has passed at `now` and queues its record.
    /// Returns how many flows ended.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        if let Some(r) = &mut self.reassembler {
            r.expire(now);
        }
        let before = self.stats.finished;
        self.expire_closed(now);
        let t = self.timeouts;
        if now < self.next_scan {
            return (self.stats.finished - before) as usize;
        }
        // Timeouts are coarse: scanning every eighth of the shortest one keeps each flow's
        // report within 12.5 % of its timeout while sparing most of the scans.
        self.next_scan = now.plus((t.min_idle_open / 8).max(1));
        let mut keys = std::mem::take(&mut self.expired_keys);
        keys.clear();
        for (key, entry) in self.map.iter() {
            // The map is ordered by `order_ts` and `last_ts >= order_ts`: once an entry was
            // reordered less than the shortest timeout ago, no later one can have expired.
            // Closed connections, which linger for less, come from the closing queue.
            if now.since(entry.order_ts) < t.min_idle_open {
                break;
            }
            if now.since(entry.last_ts) >= idle_timeout(&t, key.proto, entry.state) {
                keys.push(*key);
            }
        }
        for key in &keys {
            if let Some(entry) = self.map.remove(key) {
                let reason = end_reason(entry.state);
                self.finish(*key, entry, reason);
            }
        }
        self.expired_keys = keys;
        (self.stats.finished - before) as usize
    }

    /// Ends the closed/reset connections whose linger has passed.
    fn expire_closed(&mut self, now: Timestamp) {
        let linger = self.timeouts.tcp_closed;
        while let Some(&(key, closed_at)) = self.closing.front() {
            if now.since(closed_at) < linger {
                break;
            }
            self.closing.pop_front();
            let Some(entry) = self.map.get(&key) else {
                continue; // already gone (evicted, reused)
            };
            if !entry.state.is_terminal() {
                continue; // a new connection reused the key
            }
            let last_ts = entry.last_ts;
            if now.since(last_ts) >= linger {
                if let Some(entry) = self.map.remove(&key) {
                    let reason = end_reason(entry.state);
                    self.finish(key, entry, reason);
                }
            } else {
                // Late packets (final ACKs) moved it on: look again later.
                self.closing.push_back((key, last_ts));
            }
        }
    }

    /// Ends every live flow (end of capture) and queues the records, oldest activity first.
    pub fn finish_all(&mut self) {
        if let Some(r) = &mut self.reassembler {
            r.flush();
        }
        self.closing.clear();
        while let Some((key, entry)) = self.map.pop_front() {
            let reason = match entry.state {
                TcpState::Closed | TcpState::Reset => end_reason(entry.state),
                _ => EndReason::EndOfCapture,
            };
            self.finish(key, entry, reason);
        }
    }

    /// Whether IP fragments are reassembled ([`FlowConfig::ip_reassembly`]): then a fragment's
    /// own payload is not inspected (pass an empty one to [`FlowTable::ingest_with_payload`])
    /// and its bytes go to [`FlowTable::reassemble`].
    pub fn reassembles(&self) -> bool {
        self.reassembler.is_some()
    }

    /// Hands a fragment's IP datagram (`ip`: its captured bytes from the IP header on, seen at
    /// `ts`) to the reassembler; returns the datagram, decoded, when this fragment completes
    /// it (`None` until then, and when reassembly is off). The caller then either counts the
    /// completing frame as the datagram's packet (see [`FlowTable::keyless_fragment`]) or
    /// counts the fragment and has the datagram inspected with
    /// [`FlowTable::inspect_reassembled`].
    pub fn reassemble(&mut self, ip: &[u8], ts: Timestamp) -> Option<ReassembledPacket> {
        let Outcome::Complete(datagram) = self.reassembler.as_mut()?.add(ip, ts) else {
            return None;
        };
        let packet = wirewatch_decode::decode(LinkType::RAW, &datagram.bytes);
        Some(ReassembledPacket { packet, datagram })
    }

    /// Whether `pkt` is a fragment that cannot be put in its 5-tuple flow: it shows no
    /// transport header and none was seen in its datagram's first fragment (a first fragment
    /// too short for the header — a classic evasion — or one not seen yet). When such a
    /// fragment completes its datagram, the engine counts the frame as the datagram's packet
    /// (its ports, its TCP flags), as tshark counts the reassembling frame; the earlier
    /// fragments stay in the port-less flow they were counted in.
    pub fn keyless_fragment(&mut self, pkt: &Packet, ts: Timestamp) -> bool {
        pkt.fragment.is_some() && pkt.ports().is_none() && self.fragment_ports(pkt, ts).is_none()
    }

    /// Inspects a reassembled datagram's payload in its flow like a packet's (application
    /// label and names, DNS answers learned, the DNS message kept for
    /// [`FlowTable::take_dns`]), without counting a packet: its fragments were counted, each in
    /// turn, in the flow its first fragment started or joined. `carrier` is the completing
    /// fragment's decoded packet (its VLAN keys the flow when flows are keyed by VLAN).
    pub fn inspect_reassembled(
        &mut self,
        done: &ReassembledPacket,
        carrier: &Packet,
        ts: Timestamp,
    ) {
        self.last_dns = None;
        let payload = done.payload();
        if !self.inspect || payload.is_empty() {
            return;
        }
        let pkt = &done.packet;
        let Some((mut key, side)) = FlowKey::of_packet(pkt, None) else {
            return;
        };
        if self.vlan_in_key {
            key = key.on_vlan_of(carrier);
        }
        let Some(entry) = self.map.get_mut(&key) else {
            return;
        };
        let ports = pkt.ports().unwrap_or((0, 0));
        if !entry.app.wants(ports) {
            return;
        }
        let p = Payload {
            ip_proto: key.proto,
            ports,
            forward: side == entry.initiator,
            bytes: payload,
            tcp_seq: tcp_seq(pkt),
        };
        let mut out = self.transactions.outbox(ts, ends(&key, entry.initiator));
        self.last_dns = entry.app.inspect(&p, &mut self.names, &mut out);
    }

    /// Notes the tunnel `pkt` (an inner packet just ingested) travels in, on its flow, when that
    /// flow has none yet.
    pub fn set_tunnel_parent(&mut self, pkt: &Packet, parent: impl FnOnce() -> TunnelParent) {
        let Some((mut key, _)) = FlowKey::of_packet(pkt, None) else {
            return;
        };
        if self.vlan_in_key {
            key = key.on_vlan_of(pkt);
        }
        if let Some(entry) = self.map.get_mut(&key)
            && entry.tunnel.is_none()
        {
            entry.tunnel = Some(Box::new(parent()));
        }
    }

    /// The DNS message decoded from the last ingested packet or reassembled datagram, if it
    /// carried one.
    pub fn take_dns(&mut self) -> Option<DnsMessage> {
        self.last_dns.take()
    }

    /// The host name learned for `ip` from DNS answers seen on the wire.
    pub fn host_name(&self, ip: std::net::IpAddr) -> Option<&str> {
        self.names.get(ip)
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
            host_names: self.names.len() as u64,
            host_names_evicted: self.names.evicted,
            reassembly: self
                .reassembler
                .as_ref()
                .map(Reassembler::stats)
                .unwrap_or_default(),
            transactions: self.transactions.logged,
            transactions_omitted: self.transactions.omitted,
            ..self.stats
        }
    }

    /// Records of the live flows (most recently active first), at most `limit` of them.
    pub fn live_records(&self, limit: usize) -> Vec<FlowRecord> {
        self.map
            .iter()
            .rev()
            .take(limit)
            .map(|(k, e)| record(k, e.clone(), EndReason::EndOfCapture, &self.names))
            .collect()
    }

    /// The live TCP connections whose last packet is at or after `since`, most recently active
    /// first: enough to rank them and count them per host without building their records
    /// ([`FlowTable::live_record`] builds the few a caller keeps). Walks only the flows
    /// active since about then (the table is ordered by activity to within a second).
    pub fn live_tcp(&self, since: Timestamp) -> impl Iterator<Item = LiveTcp> + '_ {
        self.map
            .iter()
            .rev()
            // `last_ts - order_ts` is below the reordering granule: an entry reordered a
            // granule before `since` or earlier, and every one behind it, is older.
            .take_while(move |(_, e)| e.order_ts.0.saturating_add(REORDER_GRANULARITY_NS) > since.0)
            .filter_map(move |(key, e)| {
                let tcp = e.tcp.as_ref().filter(|_| e.last_ts >= since)?;
                Some(LiveTcp {
                    key: *key,
                    src: key.source(e.initiator).addr.ip(),
                    dst: key.destination(e.initiator).addr.ip(),
                    last_ts: e.last_ts,
                    health: tcp.health(),
                })
            })
    }

    /// The record of the live flow `key` (as an end of capture would make it), if it is live.
    pub fn live_record(&self, key: &FlowKey) -> Option<FlowRecord> {
        let e = self.map.get(key)?;
        Some(record(key, e.clone(), EndReason::EndOfCapture, &self.names))
    }

    /// Records of the `n` live flows with the most bytes (both directions), most first. One
    /// pass over the table with a bounded heap: records are built for the winners only.
    pub fn top_live(&self, n: usize) -> Vec<FlowRecord> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        if n == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::with_capacity(n + 1);
        for (i, (_, e)) in self.map.iter().enumerate() {
            let bytes = e.sides[0].bytes + e.sides[1].bytes;
            if heap.len() < n {
                heap.push(Reverse((bytes, i as u64)));
            } else if heap.peek().is_some_and(|Reverse((b, _))| bytes > *b) {
                heap.pop();
                heap.push(Reverse((bytes, i as u64)));
            }
        }
        let mut picked: Vec<(u64, u64)> = heap.into_iter().map(|Reverse(x)| x).collect();
        picked.sort_unstable_by_key(|&(_, i)| i);
        let mut out = Vec::with_capacity(picked.len());
        let mut want = picked.iter().peekable();
        for (i, (k, e)) in self.map.iter().enumerate() {
            let Some(&&(_, wanted)) = want.peek() else {
                break;
            };
            if i as u64 == wanted {
                out.push(record(k, e.clone(), EndReason::EndOfCapture, &self.names));
                want.next();
            }
        }
        out.sort_by_key(|r| Reverse(r.bytes()));
        out
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

    fn finish(&mut self, key: FlowKey, mut entry: Entry, reason: EndReason) {
        self.stats.finished += 1;
        let mut out = self
            .transactions
            .outbox(entry.last_ts, ends(&key, entry.initiator));
        entry.app.flush_transactions(&mut out);
        self.finished.push(record(&key, entry, reason, &self.names));
    }

    /// Transactions completed since the last call (and those of flows that ended), oldest
    /// first. Drain after every packet: the buffer holds only what one packet completed.
    pub fn drain_transactions(&mut self) -> std::vec::Drain<'_, Transaction> {
        self.transactions.drain()
    }
}

/// What the CICFlowMeter accumulator needs from a packet.
fn packet_obs(pkt: &Packet, ts: Timestamp, forward: bool) -> PacketObs {
    let (header_len, tcp) = match pkt.transport {
        wirewatch_decode::Transport::Tcp(t) => (
            u32::from(t.header_len),
            Some(TcpObs {
                flags: t.flags,
                window: t.window,
            }),
        ),
        wirewatch_decode::Transport::Udp(_) => (8, None),
        _ => (0, None),
    };
    PacketObs {
        ts,
        forward,
        payload_len: pkt.payload_len,
        header_len,
        tcp,
    }
}

/// Why a flow in `state` ended when it timed out.
fn end_reason(state: TcpState) -> EndReason {
    match state {
        TcpState::Closed => EndReason::Fin,
        TcpState::Reset => EndReason::Rst,
        _ => EndReason::IdleTimeout,
    }
}

/// A TCP segment's sequence number.
fn tcp_seq(pkt: &Packet) -> Option<u32> {
    match pkt.transport {
        wirewatch_decode::Transport::Tcp(t) => Some(t.seq),
        _ => None,
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

/// A flow's two ends, initiator first.
fn ends(key: &FlowKey, initiator: KeySide) -> Ends {
    let src = key.source(initiator);
    let dst = key.destination(initiator);
    Ends {
        ip_proto: key.proto,
        client: (src.addr.ip(), src.port),
        server: (dst.addr.ip(), dst.port),
    }
}

fn record(key: &FlowKey, mut entry: Entry, reason: EndReason, names: &HostNames) -> FlowRecord {
    let src = key.source(entry.initiator);
    let dst = key.destination(entry.initiator);
    entry.app.name_from_cache(dst.addr.ip(), names);
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
        app: entry.app.label,
        details: entry.app.details,
        reputation: None,
        features: entry
            .cic
            .map(|acc| acc.features().to_vec().into_boxed_slice()),
        tcp_health: entry.tcp.map(|t| t.health()),
        vlan: (key.vlan != 0).then_some(key.vlan),
        tunnel: entry.tunnel,
    }
}
