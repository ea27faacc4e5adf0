//! Builders for hand-made pcap and pcapng bytes, shared by the `file_*` tests.

#![allow(dead_code)]

use std::path::PathBuf;
use wirewatch_capture::{CaptureError, FileSource};
use wirewatch_core::Timestamp;

/// Appends a `u16`/`u32`/`u64` in the chosen byte order.
pub fn put16(out: &mut Vec<u8>, be: bool, v: u16) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}
pub fn put32(out: &mut Vec<u8>, be: bool, v: u32) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}
pub fn put64(out: &mut Vec<u8>, be: bool, v: u64) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A classic pcap file under construction.
pub struct Pcap {
    pub be: bool,
    pub ns: bool,
    pub bytes: Vec<u8>,
}

impl Pcap {
    pub fn new(be: bool, ns: bool, snaplen: u32, linktype: u32) -> Self {
        let mut bytes = Vec::new();
        put32(&mut bytes, be, if ns { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        put16(&mut bytes, be, 2);
        put16(&mut bytes, be, 4);
        put32(&mut bytes, be, 0); // thiszone
        put32(&mut bytes, be, 0); // sigfigs
        put32(&mut bytes, be, snaplen);
        put32(&mut bytes, be, linktype);
        Pcap { be, ns, bytes }
    }

    /// Sets the format's minor version (2.x).
    pub fn minor_version(&mut self, minor: u16) -> &mut Self {
        let v = if self.be {
            minor.to_be_bytes()
        } else {
            minor.to_le_bytes()
        };
        self.bytes[6..8].copy_from_slice(&v);
        self
    }

    /// A record with explicit header fields (`caplen` may lie about `data`).
    pub fn raw_record(&mut self, sec: u32, frac: u32, caplen: u32, wire_len: u32, data: &[u8]) {
        put32(&mut self.bytes, self.be, sec);
        put32(&mut self.bytes, self.be, frac);
        put32(&mut self.bytes, self.be, caplen);
        put32(&mut self.bytes, self.be, wire_len);
        self.bytes.extend_from_slice(data);
    }

    /// A well-formed record; `frac` is µs or ns according to the file.
    pub fn record(&mut self, sec: u32, frac: u32, wire_len: u32, data: &[u8]) -> &mut Self {
        self.raw_record(sec, frac, data.len() as u32, wire_len, data);
        self
    }
}

/// A pcapng option: code and value (padded on write).
pub fn opt(code: u16, value: &[u8]) -> (u16, Vec<u8>) {
    (code, value.to_vec())
}

/// A pcapng file under construction. Each `shb` switches the byte order for what follows.
pub struct Pcapng {
    pub be: bool,
    pub bytes: Vec<u8>,
}

impl Pcapng {
    pub fn new(be: bool) -> Self {
        let mut s = Pcapng {
            be,
            bytes: Vec::new(),
        };
        s.shb(be);
        s
    }

    /// Any block: type, body (padded to 4 bytes), lengths.
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        put32(&mut self.bytes, self.be, block_type);
        put32(&mut self.bytes, self.be, len);
        self.bytes.extend_from_slice(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        put32(&mut self.bytes, self.be, len);
        self
    }

    fn options(&self, out: &mut Vec<u8>, options: &[(u16, Vec<u8>)]) {
        if options.is_empty() {
            return;
        }
        for (code, value) in options {
            put16(out, self.be, *code);
            put16(out, self.be, value.len() as u16);
            out.extend_from_slice(value);
            out.resize(out.len().div_ceil(4) * 4, 0);
        }
        put32(out, self.be, 0); // opt_endofopt
    }

    /// Section Header Block with a shb_userappl option.
    pub fn shb(&mut self, be: bool) -> &mut Self {
        self.be = be;
        let mut body = Vec::new();
        put32(&mut body, be, 0x1A2B_3C4D);
        put16(&mut body, be, 1);
        put16(&mut body, be, 0);
        put64(&mut body, be, u64::MAX); // section length unknown
        self.options(&mut body, &[opt(4, b"wirewatch tests")]);
        self.block(0x0A0D_0D0A, &body)
    }

    pub fn idb(&mut self, linktype: u16, snaplen: u32, options: &[(u16, Vec<u8>)]) -> &mut Self {
        let mut body = Vec::new();
        put16(&mut body, self.be, linktype);
        put16(&mut body, self.be, 0);
        put32(&mut body, self.be, snaplen);
        self.options(&mut body, options);
        self.block(1, &body)
    }

    /// if_tsoffset option value in this section's byte order.
    pub fn tsoffset(&self, secs: i64) -> (u16, Vec<u8>) {
        let v = if self.be {
            secs.to_be_bytes()
        } else {
            secs.to_le_bytes()
        };
        (14, v.to_vec())
    }

    pub fn epb(&mut self, if_id: u32, ts: u64, wire_len: u32, data: &[u8]) -> &mut Self {
        self.epb_with(if_id, ts, data.len() as u32, wire_len, data, &[])
    }

    pub fn epb_with(
        &mut self,
        if_id: u32,
        ts: u64,
        caplen: u32,
        wire_len: u32,
        data: &[u8],
        options: &[(u16, Vec<u8>)],
    ) -> &mut Self {
        let mut body = Vec::new();
        put32(&mut body, self.be, if_id);
        put32(&mut body, self.be, (ts >> 32) as u32);
        put32(&mut body, self.be, ts as u32);
        put32(&mut body, self.be, caplen);
        put32(&mut body, self.be, wire_len);
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        self.options(&mut body, options);
        self.block(6, &body)
    }

    /// Obsolete Packet Block.
    pub fn pb(&mut self, if_id: u16, ts: u64, wire_len: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        put16(&mut body, self.be, if_id);
        put16(&mut body, self.be, 0); // drops
        put32(&mut body, self.be, (ts >> 32) as u32);
        put32(&mut body, self.be, ts as u32);
        put32(&mut body, self.be, data.len() as u32);
        put32(&mut body, self.be, wire_len);
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    pub fn spb(&mut self, wire_len: u32, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        put32(&mut body, self.be, wire_len);
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    /// Name Resolution Block with one IPv4 record.
    pub fn nrb(&mut self) -> &mut Self {
        let mut body = Vec::new();
        put16(&mut body, self.be, 1); // nrb_record_ipv4
        put16(&mut body, self.be, 13);
        body.extend_from_slice(&[10, 0, 0, 1]);
        body.extend_from_slice(b"host.lan\0");
        body.resize(body.len().div_ceil(4) * 4, 0);
        put32(&mut body, self.be, 0); // nrb_record_end
        self.block(4, &body)
    }

    /// Interface Statistics Block.
    pub fn isb(&mut self, if_id: u32) -> &mut Self {
        let mut body = Vec::new();
        put32(&mut body, self.be, if_id);
        put32(&mut body, self.be, 0);
        put32(&mut body, self.be, 0);
        self.options(&mut body, &[(4, 5u64.to_le_bytes().to_vec())]);
        self.block(5, &body)
    }

    /// Custom block (copiable), with a private enterprise number and payload.
    pub fn custom(&mut self, payload: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        put32(&mut body, self.be, 32473);
        body.extend_from_slice(payload);
        self.block(0x0000_0BAD, &body)
    }
}

/// Writes bytes to a fresh temp dir; keep the dir alive while the file is used.
pub fn write_temp(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// An owned copy of a frame, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub ts: Timestamp,
    pub linktype: u32,
    pub data: Vec<u8>,
    pub wire_len: u32,
    pub interface: u32,
}

/// Reads every frame, then the terminating error if any; checks that reading stays finished.
pub fn read_all(src: &mut FileSource) -> (Vec<Owned>, Option<CaptureError>) {
    let mut frames = Vec::new();
    let err = loop {
        match src.next_frame() {
            Ok(Some(f)) => frames.push(Owned {
                ts: f.ts,
                linktype: f.linktype.0,
                data: f.data.to_vec(),
                wire_len: f.wire_len,
                interface: f.interface,
            }),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
        assert!(frames.len() <= 10_000_000, "reader does not terminate");
    };
    assert!(matches!(src.next_frame(), Ok(None)));
    assert!(matches!(src.next_frame(), Ok(None)));
    (frames, err)
}

/// Opens bytes written to a temp file and reads them all.
pub fn read_bytes(bytes: &[u8]) -> (Vec<Owned>, Option<CaptureError>) {
    let (_dir, path) = write_temp("t.pcap", bytes);
    let mut src = FileSource::open(&path).unwrap();
    read_all(&mut src)
}

/// A payload of `len` bytes that differs per `seed`.
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
