//! Packets copied out of the engine for writing elsewhere: one buffer, many packets.

use super::ring::PacketMeta;
use wirewatch_core::{LinkType, Timestamp};

/// One packet in a [`PacketBatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEntry {
    /// Capture time.
    pub ts: Timestamp,
    /// Link type.
    pub linktype: LinkType,
    /// Length on the wire.
    pub wire_len: u32,
    /// Where its bytes start in the batch buffer.
    offset: usize,
    /// How many bytes were captured.
    len: usize,
}

/// Packets with their bytes in one buffer.
#[derive(Debug, Default)]
pub struct PacketBatch {
    data: Vec<u8>,
    entries: Vec<BatchEntry>,
}

/// A batch is handed on once it holds this many packets...
pub const BATCH_PACKETS: usize = 256;
/// ...or this many bytes.
pub const BATCH_BYTES: usize = 1 << 20;

impl PacketBatch {
    /// Adds a copy of a packet.
    pub fn push(&mut self, meta: &PacketMeta, data: &[u8]) {
        self.entries.push(BatchEntry {
            ts: meta.ts,
            linktype: meta.linktype,
            wire_len: meta.wire_len,
            offset: self.data.len(),
            len: data.len(),
        });
        self.data.extend_from_slice(data);
    }

    /// Whether it should be handed on now.
    pub fn is_full(&self) -> bool {
        self.entries.len() >= BATCH_PACKETS || self.data.len() >= BATCH_BYTES
    }

    /// Whether it holds no packet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Packets held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Captured bytes held.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// The packets with their bytes, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&BatchEntry, &[u8])> + '_ {
        self.entries
            .iter()
            .map(|e| (e, &self.data[e.offset..e.offset + e.len]))
    }

    /// Takes the contents, leaving an empty batch.
    pub fn take(&mut self) -> PacketBatch {
        std::mem::take(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_packets_bytes_and_fills_up() {
        let mut b = PacketBatch::default();
        let meta = |ts| PacketMeta {
            ts: Timestamp(ts),
            wire_len: 9,
            linktype: LinkType(1),
            src: None,
            dst: None,
            ip_proto: 0,
            ports: None,
        };
        b.push(&meta(1), &[1, 2, 3]);
        b.push(&meta(2), &[]);
        b.push(&meta(3), &[4]);
        let got: Vec<(u64, Vec<u8>)> = b.iter().map(|(e, d)| (e.ts.0, d.to_vec())).collect();
        assert_eq!(got, vec![(1, vec![1, 2, 3]), (2, vec![]), (3, vec![4])]);
        assert_eq!((b.len(), b.bytes(), b.is_full()), (3, 4, false));
        let taken = b.take();
        assert!(b.is_empty());
        assert_eq!(taken.len(), 3);
        for i in 0..BATCH_PACKETS as u64 {
            b.push(&meta(i), &[0]);
        }
        assert!(b.is_full());
    }
}
