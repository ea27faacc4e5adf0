//! Classic pcap: a 24-byte file header, then records of a 16-byte header and `caplen` bytes.
//!
//! Owns record framing and timestamps for the four classic variants (µs/ns, little/big
//! endian), including the swapped length fields of files older than format version 2.3. The
//! caplen is checked against [`MAX_CAPLEN`] before `pcap-parser` sees the record,
//! so a corrupt length never makes the buffer grow.

use super::buffer::ReadBuffer;
use super::context::Context;
use super::{MAX_CAPLEN, Record, u32_at};
use crate::error::{CaptureError, CaptureWarning};
use pcap_parser::pcap::{parse_pcap_frame, parse_pcap_frame_be, parse_pcap_header};
use wirewatch_core::{LinkType, Timestamp};

/// Size of the file header.
const FILE_HEADER_LEN: usize = 24;
/// Size of a record header.
const RECORD_HEADER_LEN: usize = 16;

/// Whether records store `caplen` and `len` the other way round, as libpcap before format
/// version 2.3 wrote them (libpcap and Wireshark undo it the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lengths {
    /// Version 2.4 and later: `caplen`, then `len`.
    Normal,
    /// Version 2.0 to 2.2: `len`, then `caplen`.
    Swapped,
    /// Version 2.3: either; swapped when the first exceeds the second.
    MaybeSwapped,
}

/// The link-type field's upper bits carry the FCS length and flags (libpcap's
/// `LT_LINKTYPE_EXT`); the link type proper is the low 16 bits (`LT_LINKTYPE`).
const LINKTYPE_MASK: u32 = 0xffff;

pub(super) struct PcapReader {
    big_endian: bool,
    nanosecond: bool,
    snaplen: u32,
    linktype: LinkType,
    lengths: Lengths,
}

impl PcapReader {
    /// Reads the file header (the magic has been recognised already).
    pub(super) fn open(
        input: &mut ReadBuffer,
        ctx: &Context,
        big_endian: bool,
        nanosecond: bool,
    ) -> Result<Self, CaptureError> {
        if !ctx.fill(input, FILE_HEADER_LEN)? {
            return Err(ctx.truncated(0));
        }
        let header = match parse_pcap_header(input.window()) {
            Ok((_, h)) => h,
            Err(e) => return Err(ctx.corrupt(0, format!("unreadable pcap file header ({e})"))),
        };
        input.consume(FILE_HEADER_LEN);
        let lengths = match (header.version_major, header.version_minor) {
            (2, 0..=2) => Lengths::Swapped,
            (2, 3) => Lengths::MaybeSwapped,
            _ => Lengths::Normal,
        };
        Ok(PcapReader {
            lengths,
            big_endian,
            nanosecond,
            snaplen: header.snaplen,
            linktype: LinkType(header.network.0 as u32 & LINKTYPE_MASK),
        })
    }

    pub(super) fn snaplen(&self) -> u32 {
        self.snaplen
    }

    pub(super) fn linktype(&self) -> LinkType {
        self.linktype
    }

    /// The next record, `None` at a clean end of file.
    #[inline]
    pub(super) fn next(
        &self,
        input: &mut ReadBuffer,
        ctx: &mut Context,
    ) -> Result<Option<Record>, CaptureError> {
        // One copy of the loop per variant keeps byte order and unit out of the hot path.
        match (self.big_endian, self.nanosecond) {
            (false, false) => self.next_record::<false, false>(input, ctx),
            (false, true) => self.next_record::<false, true>(input, ctx),
            (true, false) => self.next_record::<true, false>(input, ctx),
            (true, true) => self.next_record::<true, true>(input, ctx),
        }
    }

    #[inline(always)]
    fn next_record<const BE: bool, const NS: bool>(
        &self,
        input: &mut ReadBuffer,
        ctx: &mut Context,
    ) -> Result<Option<Record>, CaptureError> {
        let offset = input.offset();
        if !ctx.fill(input, RECORD_HEADER_LEN)? {
            return if input.available() == 0 {
                Ok(None)
            } else {
                Err(ctx.truncated(offset))
            };
        }
        let head = input.window();
        let mut caplen = u32_at(head, 8, BE);
        let mut orig_len = u32_at(head, 12, BE);
        let swapped = match self.lengths {
            Lengths::Normal => false,
            Lengths::Swapped => true,
            Lengths::MaybeSwapped => caplen > orig_len,
        };
        if swapped {
            std::mem::swap(&mut caplen, &mut orig_len);
        }
        if caplen > MAX_CAPLEN {
            return Err(ctx.oversized(offset, u64::from(caplen)));
        }
        // At most 16 + 256 KiB: always fits the buffer.
        let total = RECORD_HEADER_LEN + caplen as usize;
        if !ctx.fill(input, total)? {
            return Err(ctx.truncated(offset));
        }
        let (ts_sec, ts_frac) = if swapped {
            // pcap-parser would frame the record by the wrong length field.
            let head = input.window();
            (u32_at(head, 0, BE), u32_at(head, 4, BE))
        } else {
            let parsed = if BE {
                parse_pcap_frame_be(input.window())
            } else {
                parse_pcap_frame(input.window())
            };
            match parsed {
                Ok((_, b)) => (b.ts_sec, b.ts_usec),
                Err(e) => {
                    return Err(ctx.corrupt(offset, format!("unreadable pcap record ({e})")));
                }
            }
        };
        // The fraction is not normalised: a value of a second or more is added as is, as
        // libpcap and tshark do.
        let frac_max = if NS { 999_999_999 } else { 999_999 };
        if ts_frac > frac_max {
            ctx.warn(CaptureWarning::FractionOverflow {
                packet: ctx.packet(),
                offset,
                fraction: ts_frac,
                max: frac_max,
            });
        }
        let frac_nanos = if NS {
            u64::from(ts_frac)
        } else {
            u64::from(ts_frac) * 1000
        };
        let ts = Timestamp::from_secs_nanos(u64::from(ts_sec), frac_nanos);
        let wire_len = ctx.check_lengths(offset, caplen, orig_len, self.snaplen);
        let start = input.position() + RECORD_HEADER_LEN;
        input.consume(total);
        ctx.packets += 1;
        Ok(Some(Record {
            start,
            len: caplen as usize,
            ts,
            linktype: self.linktype,
            wire_len,
            interface: 0,
        }))
    }
}
