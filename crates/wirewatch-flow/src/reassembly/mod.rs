//! IPv4 and IPv6 fragment reassembly on packet time, with hard caps.
//!
//! [`Reassembler::add`] takes the captured bytes of an IP datagram (from its first header
//! byte) and its capture timestamp. A fragment is held until its datagram is complete; the
//! fragment that completes it yields the whole datagram ([`Outcome::Complete`]): the first
//! fragment's header with the total length (IPv4) or payload length (IPv6) set, the IPv4 flags
//! and offset cleared (checksum recomputed) or the IPv6 fragment header removed, then the data.
//! `wirewatch_decode::decode(LinkType::RAW, &bytes)` reads it like any unfragmented packet.
//! Fragments of a datagram share source, destination, identification and, for IPv4, protocol
//! (RFC 791, RFC 8200 §4.5). An IPv6 atomic fragment (offset 0, no more fragments, RFC 6946)
//! is not held: it is complete as it is ([`Outcome::Atomic`]).
//!
//! # Caps ([`ReassemblyConfig`])
//!
//! | cap | default | when reached |
//! |---|---|---|
//! | bytes held: data, first headers, piece lists and a fixed cost per datagram | 16 MiB | oldest datagrams evicted ([`DatagramDrop::Memory`]); a fragment that still does not fit is dropped ([`FragmentDrop::Memory`]) |
//! | datagrams in flight | 4,096 | oldest evicted ([`DatagramDrop::Capacity`]) |
//! | fragments bringing data to one datagram | 64 | the datagram is abandoned ([`DatagramDrop::TooManyFragments`]) |
//! | datagram size | 65,535 bytes (IPv4 total length, IPv6 payload length; no jumbograms) | fragment dropped ([`FragmentDrop::TooLarge`]) |
//! | time from a datagram's first fragment | 30 s IPv4 (Linux `ipfrag_time`), 60 s IPv6 (RFC 8200) | datagram abandoned ([`DatagramDrop::Timeout`]) |
//!
//! Every fragment ends in exactly one place, counted in [`ReassemblyStats`]: passed through
//! (atomic), dropped by reason, held now, part of a reassembled datagram, or part of an
//! abandoned one.
//!
//! # Overlap policy: the first bytes held win
//!
//! Fragments may overlap, and hosts have disagreed on whose bytes count: Novak's
//! target-based reassembly study names the policies Suricata implements (`first`, `last`,
//! `bsd` — its default —, `bsd-right`, `linux`, `windows`, `solaris`), chosen per destination
//! host. An attacker sends overlapping fragments with different bytes so that the monitor
//! reassembles one datagram and the target another (Ptacek and Newsham's insertion/evasion).
//! Since 2018 Linux discards any IPv4 datagram with overlapping fragments (commit 7969e5c40dfd,
//! "ip: discard IPv4 datagrams with overlapping segments"), and IPv6 hosts must (RFC 5722), so
//! an overlap is itself the anomaly on a modern network.
//!
//! Wirewatch keeps the bytes held first and takes only the holes from a later fragment (the
//! `first` policy; Zeek's reassembler keeps its first blocks the same way). Why:
//! - it never rewrites what was already seen: a later fragment cannot change the transport
//!   header of the first fragment (ports, TCP flags — the overlap attack of RFC 1858 §3.2);
//! - the result does not depend on a host-OS table we do not have, and one rule is easy to
//!   reason about and to test;
//! - dropping overlapped datagrams like Linux would let any attacker blind the monitor to a
//!   datagram that an older or non-Linux target still accepts.
//!
//! The evasion is not lost: a fragment whose overlapping bytes *differ* from those held is
//! counted in [`ReassemblyStats::overlap_conflicts`] (Zeek's `fragment_inconsistency`) and
//! marks the datagram ([`Reassembled::overlap_conflict`]); an overlap with the same bytes is
//! counted in [`ReassemblyStats::overlaps`] (Zeek's `fragment_overlap`), and a fragment with
//! nothing new is dropped as [`FragmentDrop::Duplicate`] or [`FragmentDrop::Overlap`]. A first
//! fragment too short for its transport header (the tiny-fragment attack) is reassembled but
//! counted in [`ReassemblyStats::tiny_first`] and marked ([`Reassembled::tiny_first`]).
//!
//! Lengths: a fragment that is not the last must carry a multiple of 8 bytes (RFC 8200 drops
//! it; Linux trims an IPv4 one): both are dropped ([`FragmentDrop::BadLength`]).
//!
//! # Cost
//!
//! The datagrams live in two insertion-ordered maps (one per IP version, each with one
//! timeout, so expiry pops from the front), hashed with a per-process random seed since the
//! keys come from the wire. A datagram's data is one buffer in arrival order plus a sorted list
//! of runs (in-order arrival keeps one run; at most two per fragment, at most `max_fragments`
//! fragments): placing a fragment is linear in the runs held. One allocation per datagram for its data, one for its runs, one for its
//! first header and one for the reassembled bytes.

mod datagram;
pub mod fuzz;
mod parse;
mod stats;

pub use parse::{FragmentRef, IpVersion, Parsed};
pub use stats::{DatagramDrop, FragmentDrop, ReassemblyStats};

use datagram::{Datagram, MAX_DATA};
use foldhash::fast::RandomState;
use hashlink::LinkedHashMap;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirewatch_core::Timestamp;
use wirewatch_core::time::NANOS_PER_SEC;

/// Reassembly settings. The defaults bound the reassembler near 16 MiB whatever arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReassemblyConfig {
    /// Bytes held at most: fragment data, first headers, run lists and a fixed cost per
    /// datagram. Fits 256 datagrams of 64 KiB, or thousands of ordinary ones.
    pub max_bytes: usize,
    /// Datagrams in flight at most (0 counts as 1).
    pub max_datagrams: usize,
    /// Fragments that may bring data to one datagram (0 counts as 1). 1,024 covers a 64 KiB
    /// datagram cut in 64-byte fragments, or an 8 KiB one in the 8-byte fragments of evasion
    /// tools (tshark and Zeek reassemble those, so must we); up to 8,192 (the most a 64 KiB
    /// datagram can have) costs more time per fragment of a hostile out-of-order flood.
    pub max_fragments: u32,
    /// Seconds of packet time an IPv4 datagram may take from its first fragment (Linux's
    /// `ipfrag_time`).
    pub ipv4_timeout_secs: u64,
    /// Seconds of packet time an IPv6 datagram may take from its first fragment (RFC 8200
    /// §4.5).
    pub ipv6_timeout_secs: u64,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_bytes: 16 * 1024 * 1024,
            max_datagrams: 4_096,
            max_fragments: 1_024,
            ipv4_timeout_secs: 30,
            ipv6_timeout_secs: 60,
        }
    }
}

/// What became of one packet handed to [`Reassembler::add`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not a fragment: process the packet as it is.
    NotFragment,
    /// An IPv6 atomic fragment (RFC 6946): complete as it is, nothing held.
    Atomic,
    /// Held; its datagram is not complete yet.
    Held,
    /// The fragment completed its datagram.
    Complete(Reassembled),
    /// The fragment was not kept.
    Dropped(FragmentDrop),
    /// The fragment was taken, but its datagram was given up with it.
    Abandoned(DatagramDrop),
}

/// A reassembled datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// The whole IP datagram, from its first header byte.
    pub bytes: Vec<u8>,
    /// Fragments that brought data to it.
    pub fragments: u32,
    /// Some fragment overlapped bytes held with different values (evasion signal).
    pub overlap_conflict: bool,
    /// Its first fragment was too short for the transport header (tiny-fragment attack).
    pub tiny_first: bool,
    /// Packet time of its first fragment.
    pub first_ts: Timestamp,
}

/// A datagram's identity: addresses, identification and (IPv4) protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

/// Reassembles IPv4 and IPv6 fragments within hard caps; see the [module](self) docs.
pub struct Reassembler {
    config: ReassemblyConfig,
    /// Timeouts in nanoseconds, by version index.
    timeouts: [u64; 2],
    /// Datagrams in flight by version index, in creation order.
    queues: [LinkedHashMap<Key, Datagram, RandomState>; 2],
    /// Bytes held (sum of the datagrams' footprints).
    bytes: usize,
    /// Fragments held by datagrams in flight.
    held: u64,
    next_seq: u64,
    stats: ReassemblyStats,
    /// Runs of the fragment being placed (reused).
    scratch: Vec<(u32, u32)>,
}

impl std::fmt::Debug for Reassembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reassembler")
            .field("config", &self.config)
            .field("in_flight", &self.in_flight())
            .field("bytes", &self.bytes)
            .field("stats", &self.stats)
            .finish()
    }
}

fn index(version: IpVersion) -> usize {
    match version {
        IpVersion::V4 => 0,
        IpVersion::V6 => 1,
    }
}

fn version_of(index: usize) -> IpVersion {
    if index == 0 {
        IpVersion::V4
    } else {
        IpVersion::V6
    }
}

impl Reassembler {
    /// An empty reassembler with the given caps.
    pub fn new(config: &ReassemblyConfig) -> Self {
        let config = ReassemblyConfig {
            max_datagrams: config.max_datagrams.max(1),
            max_fragments: config.max_fragments.max(1),
            ..config.clone()
        };
        Reassembler {
            timeouts: [
                config.ipv4_timeout_secs.saturating_mul(NANOS_PER_SEC),
                config.ipv6_timeout_secs.saturating_mul(NANOS_PER_SEC),
            ],
            config,
            queues: [
                LinkedHashMap::with_hasher(RandomState::default()),
                LinkedHashMap::with_hasher(RandomState::default()),
            ],
            bytes: 0,
            held: 0,
            next_seq: 0,
            stats: ReassemblyStats::default(),
            scratch: Vec::new(),
        }
    }

    /// The caps in force (zeros raised to 1).
    pub fn config(&self) -> &ReassemblyConfig {
        &self.config
    }

    /// Counters so far.
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Bytes held now (never more than `max_bytes`).
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Datagrams in flight now (never more than `max_datagrams`).
    pub fn in_flight(&self) -> usize {
        self.queues[0].len() + self.queues[1].len()
    }

    /// Fragments held now by the datagrams in flight.
    pub fn held_fragments(&self) -> u64 {
        self.held
    }

    /// Hands one captured IP datagram (`ip`, from its first header byte) seen at `ts` to the
    /// reassembler.
    pub fn add(&mut self, ip: &[u8], ts: Timestamp) -> Outcome {
        match FragmentRef::parse(ip) {
            Parsed::NotFragment => Outcome::NotFragment,
            Parsed::Invalid(reason) => {
                self.stats.fragments += 1;
                self.expire(ts);
                self.refuse(reason)
            }
            Parsed::Fragment(f) => self.add_fragment(&f, ts),
        }
    }

    /// Hands one fragment, already parsed, seen at `ts` to the reassembler.
    pub fn add_fragment(&mut self, f: &FragmentRef<'_>, ts: Timestamp) -> Outcome {
        if f.frag.offset == 0 && !f.frag.more {
            if f.version == IpVersion::V4 {
                return Outcome::NotFragment;
            }
            self.stats.fragments += 1;
            self.stats.atomic += 1;
            return Outcome::Atomic;
        }
        self.stats.fragments += 1;
        self.expire(ts);
        if let Err(reason) = check(f) {
            return self.refuse(reason);
        }
        let v = index(f.version);
        let key = Key {
            src: f.src,
            dst: f.dst,
            proto: if f.version == IpVersion::V4 {
                f.proto
            } else {
                0
            },
            id: f.frag.id,
        };
        self.open(v, key, ts);
        let Some(d) = self.queues[v].get(&key) else {
            return self.refuse(FragmentDrop::Memory);
        };
        let end = u32::try_from(f.end()).unwrap_or(u32::MAX);
        if !d.end_agrees(end, f.frag.more) {
            return self.refuse(FragmentDrop::PastEnd);
        }
        let mut runs = std::mem::take(&mut self.scratch);
        let overlap = d.plan(f.frag.offset, f.data, &mut runs);
        let outcome = self.place(v, key, f, &runs, overlap);
        self.scratch = runs;
        outcome
    }

    /// Places the new runs of fragment `f` in datagram `key` (which exists).
    fn place(
        &mut self,
        v: usize,
        key: Key,
        f: &FragmentRef<'_>,
        runs: &[(u32, u32)],
        overlap: datagram::Overlap,
    ) -> Outcome {
        let max_fragments = self.config.max_fragments;
        let Some(d) = self.queues[v].get_mut(&key) else {
            return self.refuse(FragmentDrop::Memory);
        };
        if overlap.differ {
            d.conflict = true;
            self.stats.overlap_conflicts += 1;
        }
        if runs.is_empty() {
            let reason = if overlap.differ {
                FragmentDrop::Overlap
            } else {
                FragmentDrop::Duplicate
            };
            // A last fragment with nothing new (a router cut the datagram differently the
            // second time) still says where the datagram ends.
            let completes = !f.frag.more && d.set_end(f.end()) && d.is_complete();
            let outcome = self.refuse(reason);
            return if completes {
                self.complete(v, &key)
            } else {
                outcome
            };
        }
        if overlap.same && !overlap.differ {
            self.stats.overlaps += 1;
        }
        if d.fragments >= max_fragments {
            self.abandon(v, &key, DatagramDrop::TooManyFragments);
            return self.refuse(FragmentDrop::TooManyFragments);
        }
        let new_bytes: usize = runs.iter().map(|&(a, b)| (b - a) as usize).sum();
        let header = if f.frag.offset == 0 {
            f.header.len()
        } else {
            0
        };
        let growth = d.growth(new_bytes, runs.len(), header);
        if !self.make_room(growth, v, &key) {
            if self.queues[v].get(&key).is_some_and(|d| d.fragments == 0) {
                self.abandon(v, &key, DatagramDrop::Memory);
            }
            return self.refuse(FragmentDrop::Memory);
        }
        let Some(d) = self.queues[v].get_mut(&key) else {
            return self.refuse(FragmentDrop::Memory);
        };
        let before = d.footprint();
        let was_tiny = d.tiny_first;
        d.insert(f, runs, min_first_fragment(f));
        let after = d.footprint();
        let tiny = d.tiny_first && !was_tiny;
        let complete = d.is_complete();
        self.bytes = self.bytes - before + after;
        self.held += 1;
        if tiny {
            self.stats.tiny_first += 1;
        }
        if self.bytes > self.config.max_bytes && !self.make_room(0, v, &key) {
            self.abandon(v, &key, DatagramDrop::Memory);
            return Outcome::Abandoned(DatagramDrop::Memory);
        }
        if complete {
            return self.complete(v, &key);
        }
        Outcome::Held
    }

    /// Removes a complete datagram and builds its bytes.
    fn complete(&mut self, v: usize, key: &Key) -> Outcome {
        let Some(d) = self.queues[v].remove(key) else {
            return Outcome::Held;
        };
        self.bytes -= d.footprint();
        self.held -= u64::from(d.fragments);
        match d.build(version_of(v)) {
            Some(bytes) => {
                self.stats.reassembled += 1;
                self.stats.fragments_reassembled += u64::from(d.fragments);
                Outcome::Complete(Reassembled {
                    bytes,
                    fragments: d.fragments,
                    overlap_conflict: d.conflict,
                    tiny_first: d.tiny_first,
                    first_ts: d.first_ts,
                })
            }
            None => {
                self.stats.abandon(DatagramDrop::TooLarge, d.fragments);
                Outcome::Abandoned(DatagramDrop::TooLarge)
            }
        }
    }

    /// Makes sure datagram `key` exists in queue `v`: a datagram whose time ran out is
    /// abandoned first, and the oldest datagram is evicted when too many are in flight.
    fn open(&mut self, v: usize, key: Key, ts: Timestamp) {
        let timeout = self.timeouts[v];
        match self.queues[v].get(&key) {
            Some(d) if ts.since(d.first_ts) >= timeout => {
                self.abandon(v, &key, DatagramDrop::Timeout);
            }
            Some(_) => return,
            None => {}
        }
        while self.in_flight() >= self.config.max_datagrams {
            let Some((ov, oldest)) = self.oldest_except(None) else {
                break;
            };
            self.abandon(ov, &oldest, DatagramDrop::Capacity);
        }
        let d = Datagram::new(self.next_seq, ts);
        self.next_seq += 1;
        self.bytes += d.footprint();
        self.queues[v].insert(key, d);
    }

    /// Evicts the oldest datagrams other than `keep` until `growth` more bytes fit under the
    /// cap. Returns whether they do.
    fn make_room(&mut self, growth: usize, v: usize, keep: &Key) -> bool {
        while self.bytes.saturating_add(growth) > self.config.max_bytes {
            let Some((ov, oldest)) = self.oldest_except(Some((v, keep))) else {
                return false;
            };
            self.abandon(ov, &oldest, DatagramDrop::Memory);
        }
        true
    }

    /// The oldest datagram in flight across both versions, other than `skip`.
    fn oldest_except(&self, skip: Option<(usize, &Key)>) -> Option<(usize, Key)> {
        let mut best: Option<(u64, usize, Key)> = None;
        for (v, queue) in self.queues.iter().enumerate() {
            let candidate = queue
                .iter()
                .take(2)
                .find(|(k, _)| skip.is_none_or(|(sv, sk)| sv != v || sk != *k));
            if let Some((k, d)) = candidate
                && best.is_none_or(|(seq, _, _)| d.seq < seq)
            {
                best = Some((d.seq, v, *k));
            }
        }
        best.map(|(_, v, k)| (v, k))
    }

    /// Gives up datagram `key` of queue `v`, counting it and the fragments it held.
    fn abandon(&mut self, v: usize, key: &Key, reason: DatagramDrop) {
        if let Some(d) = self.queues[v].remove(key) {
            self.bytes -= d.footprint();
            self.held -= u64::from(d.fragments);
            if d.fragments > 0 || reason != DatagramDrop::Memory {
                self.stats.abandon(reason, d.fragments);
            }
        }
    }

    fn refuse(&mut self, reason: FragmentDrop) -> Outcome {
        self.stats.drop_fragment(reason);
        Outcome::Dropped(reason)
    }

    /// Abandons every datagram whose time ran out at `now` (packet time). [`Reassembler::add`]
    /// calls it; call it also when time moves without fragments (an interval end) to free
    /// their memory.
    pub fn expire(&mut self, now: Timestamp) {
        for v in 0..2 {
            let timeout = self.timeouts[v];
            while let Some((key, d)) = self.queues[v].front() {
                if now.since(d.first_ts) < timeout {
                    break;
                }
                let key = *key;
                self.abandon(v, &key, DatagramDrop::Timeout);
            }
        }
    }

    /// Abandons every datagram in flight (end of the capture), counted as
    /// [`DatagramDrop::Flushed`].
    pub fn flush(&mut self) {
        for v in 0..2 {
            while let Some((key, _)) = self.queues[v].front() {
                let key = *key;
                self.abandon(v, &key, DatagramDrop::Flushed);
            }
        }
    }
}

/// The checks a fragment passes before its datagram is looked at.
fn check(f: &FragmentRef<'_>) -> Result<(), FragmentDrop> {
    if f.data.is_empty() || (f.frag.more && !f.data.len().is_multiple_of(8)) {
        return Err(FragmentDrop::BadLength);
    }
    // The header that travels with the fragment counts against the version's limit.
    let header = match f.version {
        IpVersion::V4 => f.header.len(),
        IpVersion::V6 => f.header.len().saturating_sub(parse::IPV6_HEADER),
    };
    if f.end().saturating_add(header as u64) > u64::from(MAX_DATA) {
        return Err(FragmentDrop::TooLarge);
    }
    let consistent = match f.version {
        IpVersion::V4 => f.header.len() >= 20,
        IpVersion::V6 => f.header.len() >= parse::IPV6_HEADER && f.next_header_at < f.header.len(),
    };
    if !consistent {
        return Err(FragmentDrop::Malformed);
    }
    Ok(())
}

/// Bytes a first fragment needs to hold its transport header: TCP 20, UDP, ICMP and ICMPv6 8;
/// for IPv6, the extension headers of the fragmentable part first (RFC 7112). 0 for other
/// protocols.
fn min_first_fragment(f: &FragmentRef<'_>) -> usize {
    if f.frag.offset != 0 {
        return 0;
    }
    let mut next = f.proto;
    let mut pos = 0usize;
    for _ in 0..wirewatch_decode::MAX_EXTENSION_HEADERS {
        let len = match (f.version, next) {
            (IpVersion::V6, 0 | 43 | 60 | 135 | 139 | 140) => match f.data.get(pos + 1) {
                Some(&n) => (usize::from(n) + 1) * 8,
                None => return pos + 2,
            },
            (IpVersion::V6, 51) => match f.data.get(pos + 1) {
                Some(&n) => (usize::from(n) + 2) * 4,
                None => return pos + 2,
            },
            (_, 6) => return pos + 20,
            (_, 17) | (IpVersion::V4, 1) | (IpVersion::V6, 58) => return pos + 8,
            _ => return 0,
        };
        let Some(&nh) = f.data.get(pos) else {
            return pos + 2;
        };
        next = nh;
        pos += len;
    }
    0
}
