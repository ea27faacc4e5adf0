//! The per-packet counters shared by interval metrics and run totals.

use crate::talkers::TalkerTable;
use std::collections::BTreeMap;
use wirewatch_core::{ProtocolCounts, TcpFlagCounts};
use wirewatch_decode::{DecodeErrorKind, Packet};

/// Packet, byte, protocol, flag, address and decode-error counts over some span of packets.
#[derive(Debug, Clone)]
pub struct PacketCounters {
    /// Frames.
    pub packets: u64,
    /// Sum of wire lengths.
    pub bytes: u64,
    /// Sum of captured lengths.
    pub captured_bytes: u64,
    /// Frames per protocol class.
    pub protocols: ProtocolCounts,
    /// TCP control segments.
    pub tcp_flags: TcpFlagCounts,
    /// Per-source counters (outermost IP header).
    pub sources: TalkerTable,
    /// Per-destination counters (outermost IP header).
    pub destinations: TalkerTable,
    /// Frames that decoded only partly, per reason (indexed like `DecodeErrorKind::ALL`).
    decode_errors: [u64; DecodeErrorKind::ALL.len()],
}

impl PacketCounters {
    /// Empty counters whose address tables hold at most `talker_cap` addresses exactly.
    pub fn new(talker_cap: usize) -> Self {
        PacketCounters {
            packets: 0,
            bytes: 0,
            captured_bytes: 0,
            protocols: ProtocolCounts::default(),
            tcp_flags: TcpFlagCounts::default(),
            sources: TalkerTable::new(talker_cap),
            destinations: TalkerTable::new(talker_cap),
            decode_errors: [0; DecodeErrorKind::ALL.len()],
        }
    }

    /// Counts one decoded frame.
    #[inline]
    pub fn record(&mut self, pkt: &Packet, wire_len: u32, captured_len: u32) {
        self.record_scalars(pkt, wire_len, captured_len);
        if pkt.is_ip() {
            if pkt.has_src {
                self.sources.add(pkt.src, u64::from(wire_len));
            }
            if pkt.has_dst {
                self.destinations.add(pkt.dst, u64::from(wire_len));
            }
        }
    }

    /// Counts one decoded frame in everything but the address tables (which a caller fills
    /// in bulk with [`PacketCounters::merge_talkers`]).
    #[inline]
    pub fn record_scalars(&mut self, pkt: &Packet, wire_len: u32, captured_len: u32) {
        self.packets += 1;
        self.bytes += u64::from(wire_len);
        self.captured_bytes += u64::from(captured_len);
        self.protocols.add(pkt.class);
        // A bogus TCP header (data offset < 5) is not trusted for its flags either.
        if let Some(flags) = pkt.tcp_flags()
            && pkt.error != Some(DecodeErrorKind::BadTcpHeader)
        {
            self.tcp_flags.add(flags);
        }
        if let Some(kind) = pkt.error
            && let Some(slot) = self.decode_errors.get_mut(kind as usize)
        {
            *slot += 1;
        }
    }

    /// Adds the address tables of `other` to this one's.
    pub fn merge_talkers(&mut self, other: &PacketCounters) {
        self.sources.merge(&other.sources);
        self.destinations.merge(&other.destinations);
    }

    /// Frames that decoded only partly.
    pub fn decode_error_total(&self) -> u64 {
        self.decode_errors.iter().sum()
    }

    /// Non-zero decode-error counts by kind name.
    pub fn decode_errors(&self) -> BTreeMap<&'static str, u64> {
        DecodeErrorKind::ALL
            .iter()
            .zip(self.decode_errors.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.name(), *n))
            .collect()
    }

    /// Resets every counter, keeping allocations.
    pub fn clear(&mut self) {
        self.packets = 0;
        self.bytes = 0;
        self.captured_bytes = 0;
        self.protocols = ProtocolCounts::default();
        self.tcp_flags = TcpFlagCounts::default();
        self.sources.clear();
        self.destinations.clear();
        self.decode_errors = [0; DecodeErrorKind::ALL.len()];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_index_matches_all() {
        for (i, k) in DecodeErrorKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?} must sit at its discriminant in ALL");
        }
    }
}
