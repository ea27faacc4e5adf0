//! QUIC: long headers, the client's Initial packets and the TLS ClientHello inside them.
//!
//! Owns reading the server name (and the rest of [`tls::ClientHello`]) that a QUIC client sends
//! in its first datagrams. IETF QUIC protects even Initial packets, but with keys derived from
//! the client's Destination Connection ID, so anyone on the path can remove the protection
//! (RFC 9001 §5.2); this module does so for QUIC version 1 (RFC 9000/9001), version 2
//! (RFC 9369) and draft 29, then walks the frames and reassembles the CRYPTO stream, which clients split
//! over several packets, datagrams and reordered frames. Google QUIC (`Q0xx`) hellos up to
//! Q046 travel unencrypted and are read by [`gquic_client_hello`]; Q050 and later gQUIC
//! versions encrypt them with other salts and are not decrypted. Other draft versions and
//! unknown versions are reported by [`parse_long_header`] but never decrypted.
//!
//! It must not keep any other state: no connection tracking, no server keys, no Handshake or
//! 1-RTT decryption (their keys are secret). [`parse_long_header`] and [`gquic_client_hello`]
//! never allocate. [`ClientInitials`] allocates (a decryption buffer and the CRYPTO stream, at
//! most [`MAX_CRYPTO_BYTES`]), which is acceptable because callers feed it only the first few
//! datagrams of a UDP flow that look like a QUIC Initial, and it decrypts at most
//! [`MAX_INITIAL_DATAGRAMS`] of them. Every loop over packet data is bounded by a named
//! constant or by the bytes it consumes, every length is checked before use, and no input
//! makes anything here panic. Names returned come from the network: display them through
//! `Display`, which escapes.

mod crypto;
mod frames;
mod gquic;
#[cfg(test)]
mod tests;

use core::fmt;

use super::tls;
use crate::read::Cursor;

pub use frames::MAX_FRAMES_PER_PACKET;
pub use gquic::{
    GQUIC_SEARCH_LEN, GquicHello, MAX_GQUIC_TAGS, gquic_client_hello, is_gquic_version,
};

/// QUIC version 1 (RFC 9000).
pub const VERSION_1: u32 = 1;
/// QUIC version 2 (RFC 9369).
pub const VERSION_2: u32 = 0x6b33_43cf;
/// QUIC draft 29 (`h3-29`), deployed by browsers and large servers in 2020–2021 before
/// version 1; it shares version 1's packet types and labels, with its own salt.
pub const VERSION_DRAFT_29: u32 = 0xff00_001d;
/// The version field of a Version Negotiation packet.
pub const VERSION_NEGOTIATION: u32 = 0;
/// Longest connection id kept. QUIC v1 and v2 forbid longer ones (RFC 9000 §17.2); the version
/// invariants (RFC 8999) allow 255 bytes, so headers of other versions with longer ids are not
/// parsed.
pub const MAX_CID_LEN: usize = 20;
/// Long-header packets looked at in one datagram. A datagram coalesces at most one packet per
/// packet number space plus 0-RTT (RFC 9000 §12.2), so 4 in practice; the cap leaves room for
/// senders that coalesce several packets of one space and bounds the walk.
pub const MAX_PACKETS_PER_DATAGRAM: usize = 8;
/// Datagrams holding a client Initial that [`ClientInitials`] tries to decrypt. A ClientHello
/// fits one or two datagrams (1200 bytes minimum each, RFC 9000 §14.1), three with large
/// post-quantum key shares; one more covers a lost and retransmitted packet.
pub const MAX_INITIAL_DATAGRAMS: usize = 4;
/// CRYPTO stream bytes kept per connection. A ClientHello with a post-quantum hybrid key share
/// (X25519MLKEM768: 1216 bytes of key alone) is about 1.8 KiB; 16 KiB leaves room for large
/// session tickets, certificate compression and padding extensions while bounding memory. Data
/// at stream offsets past the cap is dropped and counted.
pub const MAX_CRYPTO_BYTES: usize = 16 * 1024;

/// Long header form bit.
const HEADER_FORM: u8 = 0x80;
/// Fixed bit ("QUIC bit"): set in every v1/v2 packet unless greased (RFC 9287).
const FIXED_BIT: u8 = 0x40;
/// Long packet type bits of the first byte.
const TYPE_SHIFT: u8 = 4;
/// Bits in a word of [`ClientInitials`]' received-byte bitmap.
const WORD_BITS: usize = 64;

/// A connection id of at most [`MAX_CID_LEN`] bytes, stored inline.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    // Invariant: bytes past `len` are zero, so the derived comparisons are correct.
    bytes: [u8; MAX_CID_LEN],
    len: u8,
}

impl ConnectionId {
    /// A connection id holding `raw`; `None` when it is longer than [`MAX_CID_LEN`].
    pub fn new(raw: &[u8]) -> Option<Self> {
        let mut bytes = [0u8; MAX_CID_LEN];
        bytes.get_mut(..raw.len())?.copy_from_slice(raw);
        Some(Self {
            bytes,
            len: u8::try_from(raw.len()).ok()?,
        })
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the id is empty (zero-length ids are legal).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionId(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Long header packet types. Versions 1 and 2 encode them differently (RFC 9369 §3.2); draft
/// 29 encodes them like version 1; other versions' packets are [`PacketType::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// Initial: carries the ClientHello and ServerHello.
    Initial,
    /// 0-RTT: early data.
    ZeroRtt,
    /// Handshake: the rest of the TLS handshake.
    Handshake,
    /// Retry: the server asks the client to prove its address.
    Retry,
    /// Version Negotiation (version 0): the server lists the versions it supports.
    VersionNegotiation,
    /// A packet of a version whose type codes are not known.
    Unknown,
}

/// The fields of a long header that identify a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader {
    /// The version field (0 for Version Negotiation).
    pub version: u32,
    /// The packet type, as encoded by `version`.
    pub packet_type: PacketType,
    /// Destination connection id.
    pub dcid: ConnectionId,
    /// Source connection id.
    pub scid: ConnectionId,
    /// Token length of an Initial packet (0 for other types).
    pub token_len: u64,
    /// The Length field (packet number plus protected payload) of Initial, 0-RTT and Handshake
    /// packets; `None` for other types or when the datagram ends before it.
    pub length: Option<u64>,
    /// Offset of the packet number field from the start of the packet (valid when `length`
    /// is `Some`).
    pub pn_offset: usize,
}

impl LongHeader {
    /// Whether this is an Initial packet (of version 1, 2 or draft 29).
    pub fn is_initial(&self) -> bool {
        self.packet_type == PacketType::Initial
    }
}

/// Parses the long header at the start of `datagram` (RFC 9000 §17.2, RFC 8999 §5.1) without
/// allocating. Returns `None` for short-header packets, for a missing fixed bit (except in
/// Version Negotiation and in v1/v2 packets, where RFC 9287 allows greasing it), for connection
/// ids longer than [`MAX_CID_LEN`] and when the datagram ends inside the ids. A header whose
/// token or Length field is cut is still returned, with `length` `None`.
pub fn parse_long_header(datagram: &[u8]) -> Option<LongHeader> {
    let mut r = Cursor::new(datagram);
    let first = r.u8()?;
    if first & HEADER_FORM == 0 {
        return None;
    }
    let version = r.u32()?;
    if first & FIXED_BIT == 0
        && !matches!(
            version,
            VERSION_NEGOTIATION | VERSION_1 | VERSION_2 | VERSION_DRAFT_29
        )
    {
        return None;
    }
    let dcid = ConnectionId::new(r.vec8()?)?;
    let scid = ConnectionId::new(r.vec8()?)?;
    let packet_type = packet_type(version, (first >> TYPE_SHIFT) & 0x03);
    let mut header = LongHeader {
        version,
        packet_type,
        dcid,
        scid,
        token_len: 0,
        length: None,
        pn_offset: r.pos(),
    };
    if matches!(
        packet_type,
        PacketType::Initial | PacketType::ZeroRtt | PacketType::Handshake
    ) {
        // A cut token or Length leaves `length` None; the header is still worth returning.
        let _ = read_lengths(&mut r, &mut header);
    }
    Some(header)
}

/// Reads the token (Initial only) and the Length field of `header`.
fn read_lengths(r: &mut Cursor<'_>, header: &mut LongHeader) -> Option<()> {
    if header.packet_type == PacketType::Initial {
        header.token_len = r.varint()?;
        r.take(usize::try_from(header.token_len).ok()?)?;
    }
    let length = r.varint()?;
    header.pn_offset = r.pos();
    header.length = Some(length);
    Some(())
}

/// The packet type of the two type bits in `version`.
fn packet_type(version: u32, bits: u8) -> PacketType {
    use PacketType::*;
    match (version, bits) {
        (VERSION_NEGOTIATION, _) => VersionNegotiation,
        (VERSION_1 | VERSION_DRAFT_29, 0) | (VERSION_2, 1) => Initial,
        (VERSION_1 | VERSION_DRAFT_29, 1) | (VERSION_2, 2) => ZeroRtt,
        (VERSION_1 | VERSION_DRAFT_29, 2) | (VERSION_2, 3) => Handshake,
        (VERSION_1 | VERSION_DRAFT_29, 3) | (VERSION_2, 0) => Retry,
        _ => Unknown,
    }
}

/// The long-header packets of a datagram with their bytes (header included, cut by the Length
/// field), at most [`MAX_PACKETS_PER_DATAGRAM`]. The walk ends at a short header, at padding
/// after the last packet, and after a packet without a Length field (which runs to the end).
struct Packets<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Packets<'a> {
    fn new(datagram: &'a [u8]) -> Self {
        Self {
            rest: datagram,
            left: MAX_PACKETS_PER_DATAGRAM,
        }
    }
}

impl<'a> Iterator for Packets<'a> {
    type Item = (LongHeader, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        self.left = self.left.checked_sub(1)?;
        let header = parse_long_header(self.rest)?;
        let end = header
            .length
            .and_then(|len| usize::try_from(len).ok())
            .and_then(|len| header.pn_offset.checked_add(len))
            .unwrap_or(usize::MAX);
        let (packet, rest) = match (self.rest.get(..end), self.rest.get(end..)) {
            (Some(packet), Some(rest)) => (packet, rest),
            _ => (self.rest, &[][..]),
        };
        self.rest = rest;
        Some((header, packet))
    }
}

/// The client side of a QUIC connection's first datagrams: decrypts the client's Initial
/// packets and reassembles the CRYPTO stream that holds the ClientHello.
///
/// Feed it the client-to-server datagrams of one UDP flow, starting with the first. Keys come
/// from the Destination Connection ID of the first Initial that decrypts (the client's
/// original one) and are used for every later datagram, where the client may already address
/// the server's chosen id; after a Retry the packet's own id is tried as well. Server Initials
/// (addressed to the client's source id) are skipped when fed by mistake.
///
/// Inline size is 136 bytes on 64-bit targets; the heap holds at most [`MAX_CRYPTO_BYTES`] of
/// stream data plus a one-bit-per-byte map of what arrived (2 KiB at most), and a decryption
/// buffer while [`ClientInitials::feed`] runs.
#[derive(Debug, Clone, Default)]
pub struct ClientInitials {
    /// CRYPTO stream bytes, indexed by stream offset.
    crypto: Vec<u8>,
    /// Which bytes of `crypto` arrived, one bit each.
    filled: Vec<u64>,
    /// Length of the contiguous run of arrived bytes from offset 0.
    prefix: usize,
    /// CRYPTO bytes at offsets past [`MAX_CRYPTO_BYTES`], dropped.
    dropped: u64,
    /// Datagrams that held a client Initial of a supported version and were tried.
    tried: usize,
    /// Version of the first long-header packet fed (other than Version Negotiation).
    first_version: Option<u32>,
    /// Version of the latest client Initial that decrypted.
    version: Option<u32>,
    /// Destination connection id of the first client Initial that decrypted.
    odcid: Option<ConnectionId>,
    /// Source connection id of that packet (the client's own id).
    client_scid: Option<ConnectionId>,
}

impl ClientInitials {
    /// Decrypts the client Initial packets of `datagram` (coalesced packets included) and keeps
    /// their CRYPTO data. Returns whether at least one Initial packet decrypted. Datagrams past
    /// the first [`MAX_INITIAL_DATAGRAMS`] that hold a client Initial are ignored.
    pub fn feed(&mut self, datagram: &[u8]) -> bool {
        let mut tried = false;
        let mut opened = false;
        let mut plain = Vec::new();
        for (header, packet) in Packets::new(datagram) {
            if self.first_version.is_none() && header.version != VERSION_NEGOTIATION {
                self.first_version = Some(header.version);
            }
            if !header.is_initial() || !crypto::is_supported(header.version) {
                continue;
            }
            if self.is_server_initial(&header) || self.tried >= MAX_INITIAL_DATAGRAMS {
                continue;
            }
            tried = true;
            if self.open(&header, packet, &mut plain) {
                opened = true;
                frames::walk(&plain, |offset, data| self.store(offset, data));
            }
        }
        if tried {
            self.tried = self.tried.saturating_add(1);
        }
        opened
    }

    /// The QUIC version: that of the latest client Initial that decrypted, else that of the
    /// first long-header packet fed (so unknown versions are reported too; alone it does not
    /// prove the flow is QUIC). `None` before any long-header packet.
    pub fn version(&self) -> Option<u32> {
        self.version.or(self.first_version)
    }

    /// Whether any client Initial decrypted.
    pub fn has_decrypted(&self) -> bool {
        self.version.is_some()
    }

    /// The ClientHello parsed from the contiguous CRYPTO data at stream offset 0. When only part
    /// of the message arrived, the TLS parser returns what it holds, marked incomplete (the SNI
    /// is usually near the start). The JA4_a section starts with `q` (QUIC transport).
    pub fn client_hello(&self) -> Option<tls::ClientHello> {
        let mut hello = tls::parse_client_hello_message(self.stream_prefix())?;
        if let Some(transport) = hello.ja4.as_mut().and_then(|ja4| ja4.first_mut()) {
            *transport = b'q';
        }
        Some(hello)
    }

    /// Whether the whole ClientHello message arrived (no need to feed more datagrams).
    pub fn hello_complete(&self) -> bool {
        let prefix = self.stream_prefix();
        match prefix.first_chunk::<4>() {
            Some(&[_, l0, l1, l2]) => {
                let len = u32::from_be_bytes([0, l0, l1, l2]);
                usize::try_from(len)
                    .ok()
                    .and_then(|len| len.checked_add(4))
                    .is_some_and(|need| prefix.len() >= need)
            }
            None => false,
        }
    }

    /// Whether feeding more datagrams can still add anything: the hello is incomplete and fewer
    /// than [`MAX_INITIAL_DATAGRAMS`] have been tried.
    pub fn wants_more(&self) -> bool {
        !self.hello_complete() && self.tried < MAX_INITIAL_DATAGRAMS
    }

    /// Datagrams tried so far (those that held a client Initial of a supported version).
    pub fn datagrams_tried(&self) -> usize {
        self.tried
    }

    /// CRYPTO bytes dropped because their stream offset lies past [`MAX_CRYPTO_BYTES`].
    pub fn dropped_crypto_bytes(&self) -> u64 {
        self.dropped
    }

    /// The contiguous CRYPTO data from offset 0.
    fn stream_prefix(&self) -> &[u8] {
        self.crypto.get(..self.prefix).unwrap_or(&[])
    }

    /// Whether `header` is a server Initial: addressed to the client's own (non-empty) id.
    fn is_server_initial(&self, header: &LongHeader) -> bool {
        matches!(self.client_scid, Some(scid) if !scid.is_empty() && header.dcid == scid)
            && self.odcid != Some(header.dcid)
    }

    /// Decrypts one client Initial into `plain` with the keys of the original id, then (after a
    /// Retry, or before any packet decrypted) with those of the packet's own id.
    fn open(&mut self, header: &LongHeader, packet: &[u8], plain: &mut Vec<u8>) -> bool {
        let own = Some(header.dcid).filter(|id| self.odcid != Some(*id));
        for dcid in [self.odcid, own].into_iter().flatten() {
            let Some(keys) = crypto::client_keys(header.version, dcid.as_bytes()) else {
                return false;
            };
            if crypto::open_initial(&keys, packet, header.pn_offset, plain) {
                if self.odcid.is_none() {
                    self.odcid = Some(header.dcid);
                    self.client_scid = Some(header.scid);
                }
                self.version = Some(header.version);
                return true;
            }
        }
        false
    }

    /// Keeps the part of one CRYPTO frame's data that lies below [`MAX_CRYPTO_BYTES`].
    fn store(&mut self, offset: u64, data: &[u8]) {
        const CAP: u64 = MAX_CRYPTO_BYTES as u64;
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let keep_end = offset.saturating_add(len).min(CAP);
        let kept = keep_end.saturating_sub(offset);
        self.dropped = self.dropped.saturating_add(len.saturating_sub(kept));
        let (Ok(start), Ok(stop), Ok(kept)) = (
            usize::try_from(offset),
            usize::try_from(keep_end),
            usize::try_from(kept),
        ) else {
            return;
        };
        if kept == 0 {
            return;
        }
        if self.crypto.len() < stop {
            self.crypto.resize(stop, 0);
            self.filled.resize(stop.div_ceil(WORD_BITS), 0);
        }
        if let (Some(dst), Some(src)) = (self.crypto.get_mut(start..stop), data.get(..kept)) {
            dst.copy_from_slice(src);
        }
        for i in start..stop {
            if let Some(word) = self.filled.get_mut(i / WORD_BITS) {
                *word |= 1 << (i % WORD_BITS);
            }
        }
        while self.arrived(self.prefix) {
            self.prefix = self.prefix.saturating_add(1);
        }
    }

    /// Whether the stream byte at `i` arrived.
    fn arrived(&self, i: usize) -> bool {
        self.filled
            .get(i / WORD_BITS)
            .is_some_and(|word| word & (1 << (i % WORD_BITS)) != 0)
    }
}

/// The ClientHello of a single datagram's client Initial packets, with the QUIC version: a
/// one-shot [`ClientInitials`] (so a hello split over several datagrams yields only what the
/// first holds).
pub fn client_hello_from_datagram(datagram: &[u8]) -> Option<(u32, tls::ClientHello)> {
    let mut initials = ClientInitials::default();
    initials.feed(datagram);
    let hello = initials.client_hello()?;
    Some((initials.version?, hello))
}

/// Fuzz entry point: runs every public parser of this module on `data`, as a datagram and as
/// a decrypted Initial payload. A plain function so that a cargo-fuzz target and the property
/// tests run the same code.
pub fn fuzz_quic(data: &[u8]) {
    std::hint::black_box(parse_long_header(data));
    std::hint::black_box(client_hello_from_datagram(data));
    std::hint::black_box(gquic_client_hello(data));
    let mut initials = ClientInitials::default();
    initials.feed(data);
    std::hint::black_box((initials.client_hello(), initials.hello_complete()));
    let mut stream = ClientInitials::default();
    frames::walk(data, |offset, bytes| stream.store(offset, bytes));
    std::hint::black_box(stream.client_hello());
}
