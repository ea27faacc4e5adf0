//! Bounds-checked readers over frame bytes, shared by every layer.
//!
//! Owns the only way decoders look at bytes: fixed-size, big-endian reads that return `None`
//! instead of panicking when the frame is too short. Nothing here allocates or knows about
//! protocols.

use crate::packet::{DecodeErrorKind, Packet};

/// The `N` bytes at `off`, or `None` when fewer are captured.
#[inline(always)]
pub(crate) fn chunk<const N: usize>(data: &[u8], off: usize) -> Option<&[u8; N]> {
    data.get(off..)?.first_chunk::<N>()
}

/// The byte at `off`.
#[inline(always)]
pub(crate) fn u8_at(data: &[u8], off: usize) -> Option<u8> {
    data.get(off).copied()
}

/// The big-endian `u16` at `off`.
#[inline(always)]
pub(crate) fn be16(data: &[u8], off: usize) -> Option<u16> {
    chunk::<2>(data, off).map(|b| u16::from_be_bytes(*b))
}

/// Big-endian `u16` from two bytes of a fixed array (no bounds check at run time).
#[inline(always)]
pub(crate) fn be16_of(hi: u8, lo: u8) -> u16 {
    u16::from_be_bytes([hi, lo])
}

/// Big-endian `u32` from four bytes of a fixed array (no bounds check at run time).
#[inline(always)]
pub(crate) fn be32_of(b0: u8, b1: u8, b2: u8, b3: u8) -> u32 {
    u32::from_be_bytes([b0, b1, b2, b3])
}

/// A length or offset as stored in [`Packet`]; frames are far below 4 GiB, so this only
/// saturates on absurd input instead of wrapping.
#[inline(always)]
pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Records `kind` unless an earlier problem was already recorded (the first one wins).
#[inline]
pub(crate) fn fail(p: &mut Packet, kind: DecodeErrorKind) {
    if p.error.is_none() {
        p.error = Some(kind);
    }
}

/// `data` cut at `end` (or left whole when `end` lies beyond the captured bytes). Offsets into
/// the result stay offsets into `data`.
#[inline(always)]
pub(crate) fn cut(data: &[u8], end: usize) -> &[u8] {
    data.get(..end).unwrap_or(data)
}

/// A cursor over captured bytes for the application decoders; every read returns `None` (or
/// reports a cut) past the end instead of panicking.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    start_len: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            start_len: data.len(),
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.start_len.saturating_sub(self.data.len())
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        let (b, rest) = self.data.split_first_chunk::<2>()?;
        self.data = rest;
        Some(u16::from_be_bytes(*b))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let (b, rest) = self.data.split_first_chunk::<4>()?;
        self.data = rest;
        Some(u32::from_be_bytes(*b))
    }

    /// The next `n` bytes, or `None` (consuming nothing) when fewer are left.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = (self.data.get(..n)?, self.data.get(n..)?);
        self.data = rest;
        Some(taken)
    }

    pub(crate) fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    /// The next `n` bytes as far as they were captured, and whether they were cut short (then
    /// the cursor is left empty).
    pub(crate) fn take_lax(&mut self, n: usize) -> (&'a [u8], bool) {
        match self.take(n) {
            Some(v) => (v, false),
            None => (std::mem::take(&mut self.data), true),
        }
    }

    /// A byte string behind a one-byte length; `None` when it is not all there.
    pub(crate) fn vec8(&mut self) -> Option<&'a [u8]> {
        let len = self.u8()?;
        self.take(usize::from(len))
    }

    /// A byte string behind a one-byte length, as far as captured (see [`Cursor::take_lax`]).
    pub(crate) fn vec8_lax(&mut self) -> Option<(&'a [u8], bool)> {
        let len = usize::from(self.u8()?);
        Some(self.take_lax(len))
    }

    /// A byte string behind a two-byte length, as far as captured.
    pub(crate) fn vec16_lax(&mut self) -> Option<(&'a [u8], bool)> {
        let len = usize::from(self.u16()?);
        Some(self.take_lax(len))
    }

    /// Skips a run of zero bytes.
    pub(crate) fn skip_zeros(&mut self) {
        let zeros = self.data.iter().take_while(|b| **b == 0).count();
        self.data = self.data.get(zeros..).unwrap_or(&[]);
    }

    /// A QUIC variable-length integer (RFC 9000 §16): the two top bits give its length, 1 to 8.
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let first = self.u8()?;
        let extra = (1usize << (first >> 6)) - 1;
        let mut value = u64::from(first & 0x3f);
        for _ in 0..extra {
            value = (value << 8) | u64::from(self.u8()?);
        }
        Some(value)
    }

    /// A variable-length integer used as a length or count.
    pub(crate) fn varint_len(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_return_none_past_the_end() {
        let d = [1u8, 2, 3];
        assert_eq!(chunk::<3>(&d, 0), Some(&[1, 2, 3]));
        assert_eq!(chunk::<3>(&d, 1), None);
        assert_eq!(chunk::<1>(&d, 4), None);
        assert_eq!(be16(&d, 1), Some(0x0203));
        assert_eq!(be16(&d, 2), None);
        assert_eq!(be16(&d, usize::MAX), None);
        assert_eq!(u8_at(&d, 3), None);
        assert_eq!(cut(&d, 2), &[1, 2]);
        assert_eq!(cut(&d, 9), &[1, 2, 3]);
    }

    #[test]
    fn first_error_wins() {
        let mut p = Packet::default();
        fail(&mut p, DecodeErrorKind::TruncatedTcp);
        fail(&mut p, DecodeErrorKind::TruncatedUdp);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedTcp));
    }

    #[test]
    fn cursor_reads_strictly_or_laxly_and_never_past_the_end() {
        let mut c = Cursor::new(&[0x40, 0x25, 2, b'a', b'b', 0, 0, 9]);
        assert_eq!(c.varint(), Some(0x25));
        assert_eq!(c.pos(), 2);
        assert_eq!(c.take(7), None, "a short take consumes nothing");
        assert_eq!(c.vec8_lax(), Some((&b"ab"[..], false)));
        c.skip_zeros();
        assert_eq!(c.remaining(), 1);
        assert_eq!(c.take_lax(4), (&[9u8][..], true));
        assert!(c.at_end());
        assert_eq!(c.u8(), None);
        assert_eq!(Cursor::new(&[2, 1]).vec8(), None);
    }
}
