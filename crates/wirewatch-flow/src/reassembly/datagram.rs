//! One datagram being reassembled: the pieces of data held (never overlapping, sorted by
//! offset), the header of its first fragment, and what its fragments said about its end.

use super::parse::{FragmentRef, IPV6_HEADER, IpVersion};
use wirewatch_core::Timestamp;

/// A run of data held: `len` bytes at `off` in the datagram, stored at `at` in `store`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    off: u32,
    len: u32,
    at: u32,
}

impl Piece {
    fn end(&self) -> u32 {
        self.off + self.len
    }
}

/// The most data bytes a datagram holds: fragment ends are checked against this first.
pub(super) const MAX_DATA: u32 = 65_535;

/// Bytes a datagram costs besides its buffers: its map entry (key, value, links and control
/// bytes, rounded up).
pub(super) const DATAGRAM_OVERHEAD: usize = 64
    + std::mem::size_of::<Datagram>()
    + std::mem::size_of::<super::Key>()
    + 2 * std::mem::size_of::<usize>();

/// How a fragment's bytes compare with the bytes held where they overlap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Overlap {
    /// Some overlapping bytes are equal to those held.
    pub same: bool,
    /// Some overlapping bytes differ from those held.
    pub differ: bool,
}

/// A datagram in flight.
#[derive(Debug)]
pub(super) struct Datagram {
    /// Creation order, for evicting the oldest across both IP versions.
    pub seq: u64,
    /// Packet time of the first fragment seen: the timeout runs from here (as Linux's).
    pub first_ts: Timestamp,
    /// The header of the offset-0 fragment (empty until it arrives).
    header: Vec<u8>,
    /// IPv6: the first fragment's Next Header and where to write it in `header`.
    next_header: u8,
    next_header_at: usize,
    has_first: bool,
    /// Data held, in arrival order; `pieces` says where each run belongs.
    store: Vec<u8>,
    pieces: Vec<Piece>,
    /// Bytes held (the pieces never overlap).
    covered: u32,
    /// The highest end of the data held.
    max_end: u32,
    /// The datagram's data length, once its last fragment was held.
    total: Option<u32>,
    /// Fragments that brought data.
    pub fragments: u32,
    /// Some fragment overlapped held bytes with different values.
    pub conflict: bool,
    /// The first fragment was too short for the transport header.
    pub tiny_first: bool,
}

impl Datagram {
    pub fn new(seq: u64, ts: Timestamp) -> Self {
        Datagram {
            seq,
            first_ts: ts,
            header: Vec::new(),
            next_header: 0,
            next_header_at: 0,
            has_first: false,
            store: Vec::new(),
            pieces: Vec::new(),
            covered: 0,
            max_end: 0,
            total: None,
            fragments: 0,
            conflict: false,
            tiny_first: false,
        }
    }

    /// Bytes this datagram holds, allocations and overhead included.
    pub fn footprint(&self) -> usize {
        DATAGRAM_OVERHEAD
            + self.header.capacity()
            + self.store.capacity()
            + self.pieces.capacity() * std::mem::size_of::<Piece>()
    }

    /// Whether a fragment ending at `end` (the last one when `!more`) fits what is known of
    /// the datagram's end.
    pub fn end_agrees(&self, end: u32, more: bool) -> bool {
        match (self.total, more) {
            (Some(total), true) => end <= total,
            (Some(total), false) => end == total,
            (None, true) => true,
            (None, false) => end >= self.max_end,
        }
    }

    /// Splits `[off, off + data.len())` into the runs not held yet (pushed to `new`, as
    /// datagram offsets) and compares the bytes that are held.
    pub fn plan(&self, off: u32, data: &[u8], new: &mut Vec<(u32, u32)>) -> Overlap {
        new.clear();
        let mut overlap = Overlap::default();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let end = off.saturating_add(len);
        let mut cursor = off;
        let first = self.pieces.partition_point(|p| p.end() <= off);
        for p in self.pieces.get(first..).unwrap_or(&[]) {
            if p.off >= end {
                break;
            }
            if p.off > cursor {
                new.push((cursor, p.off));
            }
            let lo = off.max(p.off);
            let hi = end.min(p.end());
            let held = slice(&self.store, p.at + (lo - p.off), hi - lo);
            let offered = slice(data, lo - off, hi - lo);
            if held == offered {
                overlap.same = true;
            } else {
                overlap.differ = true;
            }
            cursor = cursor.max(p.end());
        }
        if cursor < end {
            new.push((cursor, end));
        }
        overlap
    }

    /// Bytes the datagram's allocations will grow by to hold `bytes` more data in at most
    /// `pieces` more runs, and the header of a first fragment when `header` is non-zero.
    pub fn growth(&self, bytes: usize, pieces: usize, header: usize) -> usize {
        let store = grown(
            self.store.len(),
            self.store.capacity(),
            bytes,
            MAX_DATA as usize,
        );
        let runs = grown(
            self.pieces.len(),
            self.pieces.capacity(),
            pieces,
            usize::MAX,
        );
        let header = if self.has_first { 0 } else { header };
        (store - self.store.capacity())
            + (runs - self.pieces.capacity()) * std::mem::size_of::<Piece>()
            + header
    }

    /// Holds the runs of `new` (from [`Datagram::plan`]) of fragment `f`.
    pub fn insert(&mut self, f: &FragmentRef<'_>, new: &[(u32, u32)], min_transport: usize) {
        let off = f.frag.offset;
        let bytes: usize = new.iter().map(|&(a, b)| (b - a) as usize).sum();
        let target = grown(
            self.store.len(),
            self.store.capacity(),
            bytes,
            MAX_DATA as usize,
        );
        self.store.reserve_exact(target - self.store.len());
        let target = grown(
            self.pieces.len(),
            self.pieces.capacity(),
            new.len(),
            usize::MAX,
        );
        self.pieces.reserve_exact(target - self.pieces.len());
        for &(a, b) in new {
            let at = u32::try_from(self.store.len()).unwrap_or(u32::MAX);
            self.store.extend_from_slice(slice(f.data, a - off, b - a));
            self.add_piece(Piece {
                off: a,
                len: b - a,
                at,
            });
            self.covered += b - a;
            self.max_end = self.max_end.max(b);
        }
        self.fragments += 1;
        if !f.frag.more {
            self.total = Some(off.saturating_add(len32(f.data)));
        }
        if off == 0 && !self.has_first {
            self.has_first = true;
            self.header.reserve_exact(f.header.len());
            self.header.extend_from_slice(f.header);
            self.next_header = f.proto;
            self.next_header_at = f.next_header_at;
            self.tiny_first = f.data.len() < min_transport;
        }
    }

    /// Inserts a run in offset order, extending its predecessor when they touch both in the
    /// datagram and in the store (in-order arrival keeps one run).
    fn add_piece(&mut self, piece: Piece) {
        let i = self.pieces.partition_point(|p| p.off < piece.off);
        if let Some(prev) = i.checked_sub(1).and_then(|j| self.pieces.get_mut(j))
            && prev.end() == piece.off
            && prev.at + prev.len == piece.at
        {
            prev.len += piece.len;
            return;
        }
        self.pieces.insert(i, piece);
    }

    /// Records the datagram's end from a last fragment that brought no data; returns whether
    /// it was new.
    pub fn set_end(&mut self, end: u64) -> bool {
        match (self.total, u32::try_from(end)) {
            (None, Ok(end)) => {
                self.total = Some(end);
                true
            }
            _ => false,
        }
    }

    /// Whether every byte from 0 to the end is held.
    pub fn is_complete(&self) -> bool {
        self.has_first && self.total.is_some_and(|t| t == self.covered)
    }

    /// The reassembled IP datagram: the first fragment's header, its length fields set, its
    /// fragment fields cleared (IPv4: flags and offset zeroed, checksum recomputed; IPv6: the
    /// fragment header removed), then the data. `None` when it would exceed 65,535 bytes.
    pub fn build(&self, version: IpVersion) -> Option<Vec<u8>> {
        let data = self.total? as usize;
        let mut out = Vec::with_capacity(self.header.len() + data);
        out.extend_from_slice(&self.header);
        match version {
            IpVersion::V4 => {
                let total = u16::try_from(self.header.len() + data).ok()?;
                set(&mut out, 2, &total.to_be_bytes());
                set(&mut out, 6, &[0, 0]);
                set(&mut out, 10, &[0, 0]);
                let sum = checksum(&out);
                set(&mut out, 10, &sum.to_be_bytes());
            }
            IpVersion::V6 => {
                let unfragmentable = self.header.len().checked_sub(IPV6_HEADER)?;
                let payload = u16::try_from(unfragmentable + data).ok()?;
                set(&mut out, 4, &payload.to_be_bytes());
                set(&mut out, self.next_header_at, &[self.next_header]);
            }
        }
        for p in &self.pieces {
            out.extend_from_slice(slice(&self.store, p.at, p.len));
        }
        Some(out)
    }
}

/// The capacity a buffer of `len` (capacity `cap`) is given to take `more`: doubling, but
/// never past `limit` unless the data itself needs it.
fn grown(len: usize, cap: usize, more: usize, limit: usize) -> usize {
    let need = len + more;
    if need <= cap {
        cap
    } else {
        need.max(cap.saturating_mul(2).min(limit)).max(4)
    }
}

fn len32(data: &[u8]) -> u32 {
    u32::try_from(data.len()).unwrap_or(u32::MAX)
}

/// `len` bytes of `buf` from `at` (empty when out of range, which the callers rule out).
fn slice(buf: &[u8], at: u32, len: u32) -> &[u8] {
    let start = at as usize;
    buf.get(start..start.saturating_add(len as usize))
        .unwrap_or(&[])
}

/// Overwrites `out[at..]` with `bytes` when they fit.
fn set(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(at..at.saturating_add(bytes.len())) {
        dst.copy_from_slice(bytes);
    }
}

/// The Internet checksum of an IPv4 header.
fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in header.chunks(2) {
        let hi = pair.first().copied().unwrap_or(0);
        let lo = pair.get(1).copied().unwrap_or(0);
        sum += u32::from(u16::from_be_bytes([hi, lo]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
