//! pcapng writing, with the blocks serialized by `pcap-parser` (`serialize` feature).
//!
//! One section (little-endian), one interface per distinct link type (described when that link
//! type is first seen, with nanosecond `if_tsresol` and the snapshot length), and one Enhanced
//! Packet Block per frame.

use super::{WRITE_BUFFER_BYTES, WriteError};
use pcap_parser::{
    BOM_MAGIC, EPB_MAGIC, EnhancedPacketBlock, IDB_MAGIC, InterfaceDescriptionBlock, Linktype,
    OptionCode, PcapNGOption, SHB_MAGIC, SectionHeaderBlock, ToVec,
};
use std::borrow::Cow;
use std::io::{self, BufWriter, Write};
use wirewatch_core::{LinkType, Timestamp};

/// `if_tsresol` for nanoseconds: 10^-9 s.
pub const TSRESOL_NANOS: u8 = 9;

/// The application name stored in the section header (`shb_userappl`).
const USER_APPL: &[u8] = b"Wirewatch";

/// Writes frames to a pcapng file.
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    out: BufWriter<W>,
    snaplen: u32,
    /// Link type of each interface described so far; the index is the interface id.
    interfaces: Vec<LinkType>,
    packets: u64,
    bytes: u64,
}

fn serialize_error(e: impl std::fmt::Display) -> WriteError {
    WriteError::Serialize(e.to_string())
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes the section header to `w` (buffered internally). Data beyond `snaplen` bytes is
    /// cut off.
    pub fn new(w: W, snaplen: u32) -> io::Result<Self> {
        let mut shb = SectionHeaderBlock {
            block_type: SHB_MAGIC,
            block_len1: 0,
            bom: BOM_MAGIC,
            major_version: 1,
            minor_version: 0,
            section_len: -1,
            options: vec![PcapNGOption {
                code: OptionCode::ShbUserAppl,
                len: USER_APPL.len() as u16,
                value: Cow::Borrowed(USER_APPL),
            }],
            block_len2: 0,
        };
        let block = shb.to_vec().map_err(io::Error::other)?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER_BYTES, w);
        out.write_all(&block)?;
        Ok(PcapNgWriter {
            out,
            snaplen,
            interfaces: Vec::new(),
            packets: 0,
            bytes: block.len() as u64,
        })
    }

    /// Writes one packet as an Enhanced Packet Block, preceded by an Interface Description Block
    /// if its link type is new. The recorded original length is `wire_len`, or the data length
    /// if that is larger. On an error nothing is counted.
    pub fn write(
        &mut self,
        ts: Timestamp,
        linktype: LinkType,
        data: &[u8],
        wire_len: u32,
    ) -> Result<(), WriteError> {
        let known = self.interfaces.iter().position(|&l| l == linktype);
        let mut blocks = match known {
            Some(_) => Vec::new(),
            None => self.idb(linktype)?,
        };
        let if_id = known.unwrap_or(self.interfaces.len()) as u32;
        let data = &data[..data.len().min(self.snaplen as usize)];
        let caplen = data.len() as u32;
        let nanos = ts.nanos();
        let mut epb = EnhancedPacketBlock {
            block_type: EPB_MAGIC,
            block_len1: 0,
            if_id,
            ts_high: (nanos >> 32) as u32,
            ts_low: nanos as u32,
            caplen,
            origlen: wire_len.max(caplen),
            data,
            options: Vec::new(),
            block_len2: 0,
        };
        blocks.extend_from_slice(&epb.to_vec().map_err(serialize_error)?);
        self.out.write_all(&blocks)?;
        if known.is_none() {
            self.interfaces.push(linktype);
        }
        self.packets += 1;
        self.bytes += blocks.len() as u64;
        Ok(())
    }

    /// The Interface Description Block for a new interface of `linktype`.
    fn idb(&self, linktype: LinkType) -> Result<Vec<u8>, WriteError> {
        let lt = u16::try_from(linktype.0).map_err(|_| WriteError::LinkTypeOutOfRange(linktype))?;
        let mut idb = InterfaceDescriptionBlock {
            block_type: IDB_MAGIC,
            block_len1: 0,
            linktype: Linktype(i32::from(lt)),
            reserved: 0,
            snaplen: self.snaplen,
            options: vec![PcapNGOption {
                code: OptionCode::IfTsresol,
                len: 1,
                value: Cow::Borrowed(&[TSRESOL_NANOS]),
            }],
            block_len2: 0,
            if_tsresol: TSRESOL_NANOS,
            if_tsoffset: 0,
        };
        idb.to_vec().map_err(serialize_error)
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes written so far, section and interface headers included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The link type of each interface described so far, in interface id order.
    pub fn interfaces(&self) -> &[LinkType] {
        &self.interfaces
    }

    /// Pushes buffered bytes to the underlying writer and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        let mut w = self.out.into_inner().map_err(|e| e.into_error())?;
        w.flush()?;
        Ok(w)
    }

    /// The underlying writer (bytes still buffered have not reached it).
    pub(crate) fn get_ref(&self) -> &W {
        self.out.get_ref()
    }

    /// Gives the underlying writer back, dropping what is still buffered.
    pub(crate) fn abandon(self) -> W {
        self.out.into_parts().0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// Splits a little-endian pcapng byte stream into (block type, whole block) pairs, checking
    /// both length fields and the 32-bit alignment.
    fn blocks(mut b: &[u8]) -> Vec<(u32, &[u8])> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let len = u32_at(b, 4) as usize;
            assert_eq!(len % 4, 0, "block length {len} not aligned");
            assert_eq!(u32_at(b, len - 4) as usize, len, "trailing length differs");
            out.push((u32_at(b, 0), &b[..len]));
            b = &b[len..];
        }
        out
    }

    #[test]
    fn blocks_are_laid_out_as_the_spec_says() {
        let mut w = PcapNgWriter::new(Vec::new(), 100).unwrap();
        let shb_len = w.bytes();
        let ts = Timestamp(1_700_000_000_123_456_789);
        w.write(ts, LinkType::ETHERNET, &[1, 2, 3, 4, 5], 60)
            .unwrap();
        w.write(ts.plus(1), LinkType::RAW, &[0x45; 8], 8).unwrap();
        w.write(ts.plus(2), LinkType::ETHERNET, &[9; 150], 150)
            .unwrap();
        assert_eq!(w.interfaces(), &[LinkType::ETHERNET, LinkType::RAW]);
        assert_eq!(w.packets(), 3);
        let bytes = w.bytes();
        let out = w.finish().unwrap();
        assert_eq!(bytes, out.len() as u64);

        let b = blocks(&out);
        let types: Vec<u32> = b.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            types,
            [
                SHB_MAGIC, IDB_MAGIC, EPB_MAGIC, IDB_MAGIC, EPB_MAGIC, EPB_MAGIC
            ]
        );
        assert_eq!(b[0].1.len() as u64, shb_len);
        assert_eq!(u32_at(b[0].1, 8), BOM_MAGIC);

        // IDB: link type, snaplen, then if_tsresol = 9 as the first option.
        let idb = b[3].1;
        assert_eq!(&idb[8..10], &101u16.to_le_bytes());
        assert_eq!(u32_at(idb, 12), 100);
        assert_eq!(&idb[16..20], &[9, 0, 1, 0]);
        assert_eq!(idb[20], 9);

        // First EPB: interface 0, 64-bit ns timestamp split high/low, 5 bytes padded to 8.
        let epb = b[2].1;
        assert_eq!(u32_at(epb, 8), 0);
        let ts_high = u64::from(u32_at(epb, 12));
        let ts_low = u64::from(u32_at(epb, 16));
        assert_eq!((ts_high << 32) | ts_low, 1_700_000_000_123_456_789);
        assert_eq!(u32_at(epb, 20), 5);
        assert_eq!(u32_at(epb, 24), 60);
        assert_eq!(&epb[28..36], &[1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!(epb.len(), 32 + 8);
        // The raw IP packet is on interface 1; the long one is cut to the snaplen.
        assert_eq!(u32_at(b[4].1, 8), 1);
        assert_eq!(u32_at(b[5].1, 8), 0);
        assert_eq!(u32_at(b[5].1, 20), 100);
        assert_eq!(u32_at(b[5].1, 24), 150);
    }

    #[test]
    fn link_type_beyond_16_bits_is_rejected() {
        let mut w = PcapNgWriter::new(Vec::new(), 100).unwrap();
        let before = w.bytes();
        let err = w
            .write(Timestamp(1), LinkType(70_000), &[1], 1)
            .unwrap_err();
        assert!(matches!(
            err,
            WriteError::LinkTypeOutOfRange(LinkType(70_000))
        ));
        assert_eq!(w.bytes(), before);
        assert!(w.interfaces().is_empty());
        assert_eq!(w.finish().unwrap().len() as u64, before);
    }
}
