//! The frame walk over a decrypted Initial payload (RFC 9000 §12.4, §19).
//!
//! Only the frames allowed in Initial packets are understood: PADDING, PING, ACK, CRYPTO and
//! CONNECTION_CLOSE (transport variant, plus the application variant for lax senders). The walk
//! stops at any other frame type, at a frame that runs past the payload, and after
//! [`MAX_FRAMES_PER_PACKET`] frames.

use crate::read::Cursor;

/// Frames walked in one packet (a run of PADDING bytes counts as one). Chrome's "chaos
/// protection" splits the ClientHello into several CRYPTO frames and scatters PING and PADDING
/// frames between them, which makes tens of frames in a packet; the cap bounds the walk on
/// hostile input with room to spare.
pub const MAX_FRAMES_PER_PACKET: usize = 128;

const FRAME_PADDING: u64 = 0x00;
const FRAME_PING: u64 = 0x01;
const FRAME_ACK: u64 = 0x02;
const FRAME_ACK_ECN: u64 = 0x03;
const FRAME_CRYPTO: u64 = 0x06;
const FRAME_CLOSE_TRANSPORT: u64 = 0x1c;
const FRAME_CLOSE_APPLICATION: u64 = 0x1d;

/// How a frame walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WalkEnd {
    /// Every byte of the payload was walked.
    Done,
    /// A frame type not allowed (or not understood) in an Initial packet.
    UnknownFrame(u64),
    /// A frame runs past the end of the payload.
    Malformed,
    /// [`MAX_FRAMES_PER_PACKET`] frames were walked before the end.
    TooManyFrames,
}

/// Walks the frames of `payload`, calling `on_crypto(offset, data)` for each CRYPTO frame.
pub(super) fn walk(payload: &[u8], mut on_crypto: impl FnMut(u64, &[u8])) -> WalkEnd {
    let mut r = Cursor::new(payload);
    for _ in 0..MAX_FRAMES_PER_PACKET {
        if r.at_end() {
            return WalkEnd::Done;
        }
        match frame(&mut r, &mut on_crypto) {
            Ok(()) => {}
            Err(end) => return end,
        }
    }
    if r.at_end() {
        WalkEnd::Done
    } else {
        WalkEnd::TooManyFrames
    }
}

/// Reads one frame (the cursor is not at the end).
fn frame(r: &mut Cursor<'_>, on_crypto: &mut impl FnMut(u64, &[u8])) -> Result<(), WalkEnd> {
    let ty = r.varint().ok_or(WalkEnd::Malformed)?;
    let ok = match ty {
        FRAME_PADDING => {
            r.skip_zeros();
            Some(())
        }
        FRAME_PING => Some(()),
        FRAME_ACK | FRAME_ACK_ECN => ack(r, ty == FRAME_ACK_ECN),
        FRAME_CRYPTO => crypto(r, on_crypto),
        FRAME_CLOSE_TRANSPORT | FRAME_CLOSE_APPLICATION => close(r, ty == FRAME_CLOSE_TRANSPORT),
        other => return Err(WalkEnd::UnknownFrame(other)),
    };
    ok.ok_or(WalkEnd::Malformed)
}

/// Reads a CRYPTO frame body (RFC 9000 §19.6) and hands its data on.
fn crypto(r: &mut Cursor<'_>, on_crypto: &mut impl FnMut(u64, &[u8])) -> Option<()> {
    let offset = r.varint()?;
    let len = r.varint_len()?;
    on_crypto(offset, r.take(len)?);
    Some(())
}

/// Skips a CONNECTION_CLOSE frame body (RFC 9000 §19.19); only the transport variant carries the
/// type of the frame that caused the error.
fn close(r: &mut Cursor<'_>, transport: bool) -> Option<()> {
    r.varint()?; // error code
    if transport {
        r.varint()?; // frame type
    }
    let len = r.varint_len()?;
    r.take(len)?; // reason phrase
    Some(())
}

/// Skips an ACK frame body (RFC 9000 §19.3). The range count is checked against the bytes left
/// (each range takes at least two), so a huge count fails at once instead of looping.
fn ack(r: &mut Cursor<'_>, ecn: bool) -> Option<()> {
    r.varint()?; // largest acknowledged
    r.varint()?; // ACK delay
    let ranges = r.varint_len()?;
    r.varint()?; // first ACK range
    if ranges > r.remaining() / 2 {
        return None;
    }
    for _ in 0..ranges {
        r.varint()?; // gap
        r.varint()?; // ACK range length
    }
    if ecn {
        for _ in 0..3 {
            r.varint()?; // ECT0, ECT1, ECN-CE counts
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto_frames(payload: &[u8]) -> (Vec<(u64, Vec<u8>)>, WalkEnd) {
        let mut seen = Vec::new();
        let end = walk(payload, |off, data| seen.push((off, data.to_vec())));
        (seen, end)
    }

    #[test]
    fn walks_initial_frames() {
        let mut p = vec![0x01, 0x00, 0x00, 0x00];
        // ACK: largest 5, delay 0, 1 extra range, first range 1, gap 0, len 1.
        p.extend([0x02, 0x05, 0x00, 0x01, 0x01, 0x00, 0x01]);
        // ACK_ECN with no extra range and three counts.
        p.extend([0x03, 0x05, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
        // CRYPTO at offset 300 (two-byte varint), 3 bytes.
        p.extend([0x06, 0x41, 0x2c, 0x03, b'a', b'b', b'c']);
        // CONNECTION_CLOSE (transport) with a 2-byte reason, then the application variant.
        p.extend([0x1c, 0x0a, 0x06, 0x02, b'n', b'o', 0x1d, 0x00, 0x00]);
        p.extend([0x06, 0x00, 0x01, b'z', 0x00, 0x00]);
        let (seen, end) = crypto_frames(&p);
        assert_eq!(end, WalkEnd::Done);
        assert_eq!(seen, vec![(300, b"abc".to_vec()), (0, b"z".to_vec())]);
    }

    #[test]
    fn stops_on_unknown_and_malformed_frames() {
        let (seen, end) = crypto_frames(&[0x06, 0x00, 0x01, b'x', 0x08, 0x06, 0x00, 0x01, b'y']);
        assert_eq!(seen.len(), 1);
        assert_eq!(end, WalkEnd::UnknownFrame(0x08));
        // CRYPTO length past the end.
        assert_eq!(
            crypto_frames(&[0x06, 0x00, 0x05, b'x']).1,
            WalkEnd::Malformed
        );
        // ACK with an absurd range count.
        let huge = [
            0x02, 0x00, 0x00, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
        ];
        assert_eq!(crypto_frames(&huge).1, WalkEnd::Malformed);
        // Cut varint.
        assert_eq!(crypto_frames(&[0x06, 0x80]).1, WalkEnd::Malformed);
    }

    #[test]
    fn frame_count_is_bounded() {
        let pings = vec![0x01; MAX_FRAMES_PER_PACKET + 1];
        assert_eq!(crypto_frames(&pings).1, WalkEnd::TooManyFrames);
        assert_eq!(
            crypto_frames(&pings[..MAX_FRAMES_PER_PACKET]).1,
            WalkEnd::Done
        );
        // A long run of padding is one frame.
        let mut padded = vec![0u8; 5000];
        padded.extend([0x06, 0x00, 0x01, b'q']);
        assert_eq!(crypto_frames(&padded).0.len(), 1);
    }
}
