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
}
