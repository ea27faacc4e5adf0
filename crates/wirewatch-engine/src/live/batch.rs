//! Frames travel from a source thread to the engine thread in batches: one contiguous byte
//! buffer plus a record per frame, so the queue moves one object per few hundred packets and a
//! batch's memory is reused rather than allocated per packet.

use std::sync::{Arc, Mutex};
use wirewatch_core::{Frame, LinkType, Timestamp};

/// A batch is sent when it holds this many frames...
pub const BATCH_FRAMES: usize = 256;
/// ...or this many bytes (four full-size 256 KiB frames at most).
pub const BATCH_BYTES: usize = 1 << 20;
/// Empty batches kept for reuse; beyond this they are freed. Together with the queue length
/// this bounds the memory in flight.
const POOL_KEEP: usize = 128;

#[derive(Debug, Clone, Copy)]
struct Record {
    ts: Timestamp,
    wire_len: u32,
    start: usize,
    len: usize,
    linktype: LinkType,
    interface: u32,
}

/// Frames copied out of a source's buffer.
#[derive(Debug, Default)]
pub struct FrameBatch {
    data: Vec<u8>,
    records: Vec<Record>,
}

impl FrameBatch {
    /// Copies a frame in. Returns false (and copies nothing) when the batch is full.
    pub fn push(&mut self, frame: &Frame<'_>) -> bool {
        if self.is_full() {
            return false;
        }
        let start = self.data.len();
        self.data.extend_from_slice(frame.data);
        self.records.push(Record {
            ts: frame.ts,
            wire_len: frame.wire_len,
            start,
            len: frame.data.len(),
            linktype: frame.linktype,
            interface: frame.interface,
        });
        true
    }

    /// Whether another frame should go into a new batch.
    pub fn is_full(&self) -> bool {
        self.records.len() >= BATCH_FRAMES || self.data.len() >= BATCH_BYTES
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the batch holds no frame.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Timestamp of the first frame.
    pub fn first_ts(&self) -> Option<Timestamp> {
        self.records.first().map(|r| r.ts)
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.data.clear();
        self.records.clear();
    }

    /// The frames, in order.
    pub fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        self.records.iter().map(|r| Frame {
            ts: r.ts,
            linktype: r.linktype,
            data: self.data.get(r.start..r.start + r.len).unwrap_or(&[]),
            wire_len: r.wire_len,
            interface: r.interface,
        })
    }
}

/// Empty batches shared between the engine (which returns them) and sources (which take them).
#[derive(Debug, Clone, Default)]
pub struct BatchPool {
    free: Arc<Mutex<Vec<FrameBatch>>>,
}

impl BatchPool {
    /// An empty batch, reused when one is available.
    pub fn take(&self) -> FrameBatch {
        self.free
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default()
    }

    /// Returns a batch for reuse.
    pub fn give(&self, mut batch: FrameBatch) {
        batch.clear();
        if let Ok(mut v) = self.free.lock()
            && v.len() < POOL_KEEP
        {
            v.push(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_a_batch() {
        let mut b = FrameBatch::default();
        let payloads: [&[u8]; 3] = [b"abc", b"", b"0123456789"];
        for (i, p) in payloads.iter().enumerate() {
            let f = Frame {
                ts: Timestamp(i as u64),
                linktype: LinkType(i as u32),
                data: p,
                wire_len: 100 + i as u32,
                interface: 7,
            };
            assert!(b.push(&f));
        }
        let out: Vec<_> = b.frames().collect();
        assert_eq!(out.len(), 3);
        for (i, f) in out.iter().enumerate() {
            assert_eq!(f.data, payloads[i]);
            assert_eq!(
                (f.ts.0, f.linktype.0, f.wire_len, f.interface),
                (i as u64, i as u32, 100 + i as u32, 7)
            );
        }
        let pool = BatchPool::default();
        pool.give(b);
        assert!(pool.take().is_empty());
    }

    #[test]
    fn a_batch_fills_up() {
        let mut b = FrameBatch::default();
        let f = Frame {
            ts: Timestamp(0),
            linktype: LinkType::ETHERNET,
            data: &[0; 60],
            wire_len: 60,
            interface: 0,
        };
        let mut n = 0;
        while b.push(&f) {
            n += 1;
        }
        assert_eq!(n, BATCH_FRAMES);
    }
}
