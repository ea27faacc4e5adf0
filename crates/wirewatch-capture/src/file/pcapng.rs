//! pcapng: a sequence of sections, each a Section Header Block followed by Interface
//! Description Blocks and packet blocks, every block framed by its type and total length.
//!
//! Owns section and interface state (byte order, per-interface link type, snaplen and
//! timestamp scale) and the three packet block kinds: Enhanced (EPB), Simple (SPB) and the
//! obsolete Packet Block (PB). Every other block type is skipped by its length, streaming if
//! need be, so statistics, name resolution, secrets and custom blocks of any size cost nothing.

use super::buffer::ReadBuffer;
use super::context::Context;
use super::{MAX_BLOCK_LEN, MAX_CAPLEN, MAX_INTERFACES, Record, u16_at, u32_at};
use crate::error::CaptureError;
use pcap_parser::pcapng::{
    parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le,
    parse_sectionheaderblock,
};
use pcap_parser::{EPB_MAGIC, IDB_MAGIC, SHB_MAGIC, SPB_MAGIC};
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{LinkType, Timestamp};

/// The obsolete Packet Block (pcapng draft, still written by old tools).
const PB_MAGIC: u32 = 0x0000_0002;
/// Byte-order magic of a little-endian section, read little-endian.
const BOM_LE: u32 = 0x1A2B_3C4D;
/// Byte-order magic of a big-endian section, read little-endian.
const BOM_BE: u32 = 0x4D3C_2B1A;

/// Fixed part of an EPB or PB: type, length, interface, timestamp (2), caplen, wire length.
const PACKET_HEADER_LEN: usize = 28;
/// Fixed part of an SPB: type, length, wire length.
const SIMPLE_HEADER_LEN: usize = 12;
/// Type, length and trailing length: the smallest possible block.
const MIN_BLOCK_LEN: u32 = 12;
/// Smallest Section Header Block (no options).
const MIN_SHB_LEN: u32 = 28;
/// Smallest Interface Description Block (no options).
const MIN_IDB_LEN: u32 = 20;

/// IDB option codes.
const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// The default `if_tsresol`: microseconds.
const DEFAULT_TSRESOL: u8 = 6;

/// How one interface's raw 64-bit timestamps become nanoseconds since the epoch.
#[derive(Debug, Clone, Copy)]
struct TsScale {
    /// Timestamp units per second (`10^n` or `2^n`).
    units_per_sec: u64,
    /// Nanoseconds per unit when that is a whole number (1 for ns, 1000 for µs), else 0.
    nanos_per_unit: u64,
    /// `if_tsoffset`, in nanoseconds.
    offset_nanos: i128,
}

impl TsScale {
    /// `None` when `if_tsresol` does not fit in 64 bits.
    fn new(tsresol: u8, offset_secs: i64) -> Option<Self> {
        let exp = u32::from(tsresol & 0x7f);
        let units_per_sec = if tsresol & 0x80 == 0 {
            10u64.checked_pow(exp)?
        } else {
            1u64.checked_shl(exp)?
        };
        let nanos_per_unit = if NANOS_PER_SEC.is_multiple_of(units_per_sec) {
            NANOS_PER_SEC / units_per_sec
        } else {
            0
        };
        Some(TsScale {
            units_per_sec,
            nanos_per_unit,
            offset_nanos: i128::from(offset_secs) * i128::from(NANOS_PER_SEC),
        })
    }

    /// Converts a raw timestamp (saturating at the ends of the `u64` nanosecond range).
    #[inline(always)]
    fn timestamp(&self, raw: u64) -> Timestamp {
        let nanos = if self.nanos_per_unit != 0 {
            raw.saturating_mul(self.nanos_per_unit)
        } else {
            let secs = raw / self.units_per_sec;
            let frac = u128::from(raw % self.units_per_sec);
            // frac < units_per_sec, so this is below one second.
            let frac_nanos =
                (frac * u128::from(NANOS_PER_SEC) / u128::from(self.units_per_sec)) as u64;
            secs.saturating_mul(NANOS_PER_SEC)
                .saturating_add(frac_nanos)
        };
        if self.offset_nanos == 0 {
            Timestamp(nanos)
        } else {
            let shifted = i128::from(nanos) + self.offset_nanos;
            Timestamp(shifted.clamp(0, i128::from(u64::MAX)) as u64)
        }
    }
}

/// What an Interface Description Block says about its interface.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: LinkType,
    snaplen: u32,
    scale: TsScale,
}

pub(super) struct PcapngReader {
    /// Byte order of the current section.
    big_endian: bool,
    /// Interfaces of the current section, by id.
    interfaces: Vec<Interface>,
    /// Timestamp of the last packet, for Simple Packet Blocks, which have none.
    last_ts: Timestamp,
}

impl PcapngReader {
    /// Reads the first Section Header Block (the magic has been recognised already).
    pub(super) fn open(input: &mut ReadBuffer, ctx: &mut Context) -> Result<Self, CaptureError> {
        let mut reader = PcapngReader {
            big_endian: false,
            interfaces: Vec::new(),
            last_ts: Timestamp(0),
        };
        reader.section_header(input, ctx)?;
        Ok(reader)
    }

    pub(super) fn snaplen(&self) -> u32 {
        self.interfaces.first().map_or(0, |i| i.snaplen)
    }

    pub(super) fn linktype(&self) -> Option<LinkType> {
        self.interfaces.first().map(|i| i.linktype)
    }

    /// The next packet, `None` at a clean end of file.
    #[inline]
    pub(super) fn next(
        &mut self,
        input: &mut ReadBuffer,
        ctx: &mut Context,
    ) -> Result<Option<Record>, CaptureError> {
        loop {
            let offset = input.offset();
            if !ctx.fill(input, 8)? {
                return if input.available() == 0 {
                    Ok(None)
                } else {
                    Err(ctx.truncated(offset))
                };
            }
            let head = input.window();
            // The SHB type is a palindrome, readable before the section's byte order is known.
            if u32_at(head, 0, false) == SHB_MAGIC {
                self.section_header(input, ctx)?;
                continue;
            }
            let be = self.big_endian;
            let block_type = u32_at(head, 0, be);
            let len = u32_at(head, 4, be);
            if len < MIN_BLOCK_LEN || !len.is_multiple_of(4) {
                return Err(ctx.corrupt(
                    offset,
                    format!(
                        "block of type {block_type:#010x} has an invalid length of {len} bytes \
                         (at least 12, a multiple of 4)"
                    ),
                ));
            }
            match block_type {
                EPB_MAGIC => return self.packet_block(input, ctx, len, false).map(Some),
                PB_MAGIC => return self.packet_block(input, ctx, len, true).map(Some),
                SPB_MAGIC => return self.simple_packet_block(input, ctx, len).map(Some),
                IDB_MAGIC => self.interface_description(input, ctx, len)?,
                _ => skip_block(input, ctx, len, be)?,
            }
        }
    }

    /// Loads a whole block of `len` bytes (already validated as at least 12 and a multiple of
    /// 4) and checks its trailing length.
    fn load_block(
        &self,
        input: &mut ReadBuffer,
        ctx: &Context,
        len: u32,
        name: &str,
    ) -> Result<(), CaptureError> {
        let offset = input.offset();
        if len > MAX_BLOCK_LEN {
            return Err(ctx.corrupt(
                offset,
                format!("{name} claims {len} bytes, over the {MAX_BLOCK_LEN}-byte limit"),
            ));
        }
        if !ctx.fill(input, len as usize)? {
            return Err(ctx.truncated(offset));
        }
        check_trailer(input.window(), ctx, offset, len, self.big_endian)
    }

    /// EPB (`obsolete == false`) or the obsolete PB, whose interface id is 16 bits.
    #[inline(always)]
    fn packet_block(
        &mut self,
        input: &mut ReadBuffer,
        ctx: &mut Context,
        len: u32,
        obsolete: bool,
    ) -> Result<Record, CaptureError> {
        let offset = input.offset();
        let be = self.big_endian;
        if !ctx.fill(input, PACKET_HEADER_LEN)? {
            return Err(ctx.truncated(offset));
        }
        let head = input.window();
        let if_id = if obsolete {
            u32::from(u16_at(head, 8, be))
        } else {
            u32_at(head, 8, be)
        };
        let raw_ts = (u64::from(u32_at(head, 12, be)) << 32) | u64::from(u32_at(head, 16, be));
        let caplen = u32_at(head, 20, be);
        let orig_len = u32_at(head, 24, be);
        if caplen > MAX_CAPLEN {
            return Err(ctx.oversized(offset, u64::from(caplen)));
        }
        // caplen <= 256 KiB: no overflow.
        let padded = (caplen + 3) & !3;
        if len < PACKET_HEADER_LEN as u32 + padded + 4 {
            return Err(ctx.corrupt(
                offset,
                format!("packet block of {len} bytes cannot hold {caplen} captured bytes"),
            ));
        }
        self.load_block(input, ctx, len, "packet block")?;
        let Some(iface) = self.interfaces.get(if_id as usize).copied() else {
            return Err(ctx.corrupt(
                offset,
                format!(
                    "packet for interface {if_id}, but the section describes {} interface(s)",
                    self.interfaces.len()
                ),
            ));
        };
        let ts = iface.scale.timestamp(raw_ts);
        self.last_ts = ts;
        let wire_len = ctx.check_lengths(offset, caplen, orig_len, iface.snaplen);
        let start = input.position() + PACKET_HEADER_LEN;
        input.consume(len as usize);
        ctx.packets += 1;
        Ok(Record {
            start,
            len: caplen as usize,
            ts,
            linktype: iface.linktype,
            wire_len,
            interface: if_id,
        })
    }

    /// SPB: interface 0, no timestamp (the previous packet's is used), and a captured length
    /// implied by the block length, the wire length and the interface's snaplen.
    fn simple_packet_block(
        &mut self,
        input: &mut ReadBuffer,
        ctx: &mut Context,
        len: u32,
    ) -> Result<Record, CaptureError> {
        let offset = input.offset();
        if len < SIMPLE_HEADER_LEN as u32 + 4 {
            return Err(ctx.corrupt(offset, format!("simple packet block of {len} bytes")));
        }
        if !ctx.fill(input, SIMPLE_HEADER_LEN)? {
            return Err(ctx.truncated(offset));
        }
        let orig_len = u32_at(input.window(), 8, self.big_endian);
        let Some(iface) = self.interfaces.first().copied() else {
            return Err(ctx.corrupt(
                offset,
                "simple packet block, but the section describes no interface",
            ));
        };
        let room = len - SIMPLE_HEADER_LEN as u32 - 4;
        let mut caplen = orig_len.min(room);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen);
        }
        if caplen > MAX_CAPLEN {
            return Err(ctx.oversized(offset, u64::from(caplen)));
        }
        self.load_block(input, ctx, len, "simple packet block")?;
        let start = input.position() + SIMPLE_HEADER_LEN;
        input.consume(len as usize);
        ctx.packets += 1;
        Ok(Record {
            start,
            len: caplen as usize,
            ts: self.last_ts,
            linktype: iface.linktype,
            wire_len: orig_len,
            interface: 0,
        })
    }

    /// SHB: starts a new section with its own byte order and no interfaces.
    fn section_header(
        &mut self,
        input: &mut ReadBuffer,
        ctx: &mut Context,
    ) -> Result<(), CaptureError> {
        let offset = input.offset();
        if !ctx.fill(input, 12)? {
            return Err(ctx.truncated(offset));
        }
        let head = input.window();
        let be = match u32_at(head, 8, false) {
            BOM_LE => false,
            BOM_BE => true,
            other => {
                return Err(ctx.corrupt(
                    offset,
                    format!("section header with an invalid byte-order magic {other:#010x}"),
                ));
            }
        };
        let len = u32_at(head, 4, be);
        if len < MIN_SHB_LEN || !len.is_multiple_of(4) {
            return Err(ctx.corrupt(
                offset,
                format!("section header block has an invalid length of {len} bytes"),
            ));
        }
        self.big_endian = be;
        self.load_block(input, ctx, len, "section header block")?;
        let shb = match parse_sectionheaderblock(input.slice(input.position(), len as usize)) {
            Ok((_, shb)) => shb,
            Err(e) => {
                return Err(ctx.corrupt(offset, format!("unreadable section header ({e})")));
            }
        };
        if shb.major_version != 1 {
            return Err(ctx.corrupt(
                offset,
                format!(
                    "unsupported pcapng version {}.{}",
                    shb.major_version, shb.minor_version
                ),
            ));
        }
        self.interfaces.clear();
        input.consume(len as usize);
        Ok(())
    }

    /// IDB: adds the next interface of the section.
    fn interface_description(
        &mut self,
        input: &mut ReadBuffer,
        ctx: &mut Context,
        len: u32,
    ) -> Result<(), CaptureError> {
        let offset = input.offset();
        if len < MIN_IDB_LEN {
            return Err(ctx.corrupt(
                offset,
                format!("interface description block of {len} bytes"),
            ));
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(ctx.corrupt(
                offset,
                format!("more than {MAX_INTERFACES} interfaces in one section"),
            ));
        }
        self.load_block(input, ctx, len, "interface description block")?;
        let bytes = input.slice(input.position(), len as usize);
        let parsed = if self.big_endian {
            parse_interfacedescriptionblock_be(bytes)
        } else {
            parse_interfacedescriptionblock_le(bytes)
        };
        let idb = match parsed {
            Ok((_, idb)) => idb,
            Err(e) => {
                return Err(ctx.corrupt(
                    offset,
                    format!("unreadable interface description block ({e})"),
                ));
            }
        };
        // pcap-parser reads if_tsoffset little-endian whatever the section's byte order, so
        // both time options are taken from the raw option list here.
        let mut tsresol = DEFAULT_TSRESOL;
        let mut tsoffset: i64 = 0;
        for opt in &idb.options {
            let Ok(value) = opt.as_bytes() else { continue };
            match opt.code.0 {
                OPT_ENDOFOPT => break,
                OPT_IF_TSRESOL => {
                    if let Some(&r) = value.first() {
                        tsresol = r;
                    }
                }
                OPT_IF_TSOFFSET => {
                    if let Ok(b) = <[u8; 8]>::try_from(value) {
                        tsoffset = if self.big_endian {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        };
                    }
                }
                _ => {}
            }
        }
        let Some(scale) = TsScale::new(tsresol, tsoffset) else {
            return Err(ctx.corrupt(
                offset,
                format!(
                    "interface {} has an unsupported timestamp resolution (if_tsresol {tsresol:#04x})",
                    self.interfaces.len()
                ),
            ));
        };
        self.interfaces.push(Interface {
            linktype: LinkType(u32::from(idb.linktype.0 as u16)),
            snaplen: idb.snaplen,
            scale,
        });
        input.consume(len as usize);
        Ok(())
    }
}

/// Checks that a block's trailing length (its last 4 bytes) repeats the leading one.
fn check_trailer(
    block: &[u8],
    ctx: &Context,
    offset: u64,
    len: u32,
    be: bool,
) -> Result<(), CaptureError> {
    let trailer = u32_at(block, (len as usize).saturating_sub(4), be);
    if trailer != len {
        return Err(trailer_mismatch(ctx, offset, len, trailer));
    }
    Ok(())
}

#[cold]
fn trailer_mismatch(ctx: &Context, offset: u64, len: u32, trailer: u32) -> CaptureError {
    ctx.corrupt(
        offset,
        format!("block length {len} does not match its trailing copy {trailer}"),
    )
}

/// Skips a block of a type we do not read: whole when it fits the buffer, streaming otherwise.
fn skip_block(
    input: &mut ReadBuffer,
    ctx: &Context,
    len: u32,
    be: bool,
) -> Result<(), CaptureError> {
    let offset = input.offset();
    let len_usize = len as usize;
    if len_usize <= input.capacity() {
        if !ctx.fill(input, len_usize)? {
            return Err(ctx.truncated(offset));
        }
        check_trailer(input.window(), ctx, offset, len, be)?;
        input.consume(len_usize);
        return Ok(());
    }
    if !ctx.discard(input, u64::from(len) - 4)? || !ctx.fill(input, 4)? {
        return Err(ctx.truncated(offset));
    }
    let trailer = u32_at(input.window(), 0, be);
    if trailer != len {
        return Err(trailer_mismatch(ctx, offset, len, trailer));
    }
    input.consume(4);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales() {
        let us = TsScale::new(6, 0).unwrap();
        assert_eq!(us.timestamp(1_500_000), Timestamp(1_500_000_000));
        let ns = TsScale::new(9, 0).unwrap();
        assert_eq!(ns.timestamp(7), Timestamp(7));
        let bin = TsScale::new(0x80 | 10, 0).unwrap();
        // 1.5 s plus one 1/1024 s tick = 976562.5 ns, floored.
        assert_eq!(bin.timestamp(1536 + 1), Timestamp(1_500_976_562));
        let ps = TsScale::new(12, 0).unwrap();
        assert_eq!(ps.timestamp(2_000_000_000_123), Timestamp(2_000_000_000));
        let shifted = TsScale::new(6, 100).unwrap();
        assert_eq!(shifted.timestamp(1), Timestamp(100_000_001_000));
        let negative = TsScale::new(6, -100).unwrap();
        assert_eq!(negative.timestamp(1), Timestamp(0));
        assert!(TsScale::new(20, 0).is_none());
        assert!(TsScale::new(0x80 | 64, 0).is_none());
        assert_eq!(TsScale::new(0x80 | 63, 0).unwrap().units_per_sec, 1 << 63);
        let saturated = TsScale::new(9, 0).unwrap();
        assert_eq!(saturated.timestamp(u64::MAX), Timestamp(u64::MAX));
        assert_eq!(
            TsScale::new(0, 0).unwrap().timestamp(u64::MAX),
            Timestamp(u64::MAX)
        );
    }
}
