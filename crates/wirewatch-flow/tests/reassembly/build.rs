//! Builders of whole datagrams and their fragments, byte by byte.

#![allow(dead_code)] // each test file uses some

use wirewatch_core::Timestamp;
use wirewatch_flow::reassembly::{Outcome, Reassembled, Reassembler, ReassemblyStats};

pub const V4_SRC: [u8; 4] = [192, 0, 2, 1];
pub const V4_DST: [u8; 4] = [198, 51, 100, 7];
pub const V6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const V6_DST: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
];

/// Packet time `secs` seconds into the capture.
pub fn at(secs: u64) -> Timestamp {
    Timestamp::from_secs_nanos(1_700_000_000 + secs, 0)
}

/// The Internet checksum.
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 header: protocol, identification, fragment offset in bytes, more-fragments flag,
/// options (a multiple of 4 bytes) and the length of what follows; checksum filled in.
pub fn v4_header(
    proto: u8,
    id: u16,
    offset: usize,
    more: bool,
    options: &[u8],
    len: usize,
) -> Vec<u8> {
    let ihl = 20 + options.len();
    let mut h = vec![0x40 | (ihl / 4) as u8, 0];
    h.extend_from_slice(&((ihl + len) as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    h.extend_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&V4_SRC);
    h.extend_from_slice(&V4_DST);
    h.extend_from_slice(options);
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h
}

/// A whole, unfragmented IPv4 datagram.
pub fn v4_datagram(proto: u8, id: u16, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut d = v4_header(proto, id, 0, false, options, payload.len());
    d.extend_from_slice(payload);
    d
}

/// One IPv4 fragment carrying `payload[offset..offset + len]`; options only on the first.
pub fn v4_fragment(
    proto: u8,
    id: u16,
    options: &[u8],
    payload: &[u8],
    offset: usize,
    len: usize,
) -> Vec<u8> {
    let end = (offset + len).min(payload.len());
    let more = end < payload.len();
    let opts = if offset == 0 { options } else { &[] };
    let mut d = v4_header(proto, id, offset, more, opts, end - offset);
    d.extend_from_slice(&payload[offset..end]);
    d
}

/// An IPv4 fragment with arbitrary data at `offset`.
pub fn v4_raw(proto: u8, id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
    let mut d = v4_header(proto, id, offset, more, &[], data.len());
    d.extend_from_slice(data);
    d
}

/// Cuts `payload` into IPv4 fragments of `size` bytes (a multiple of 8).
pub fn v4_fragments(
    proto: u8,
    id: u16,
    options: &[u8],
    payload: &[u8],
    size: usize,
) -> Vec<Vec<u8>> {
    (0..payload.len())
        .step_by(size)
        .map(|off| v4_fragment(proto, id, options, payload, off, size))
        .collect()
}

/// An IPv6 extension header of kind `kind` (hop-by-hop 0, routing 43, destination options
/// 60) of `8 * (units + 1)` bytes; its Next Header is filled in by [`chain`].
pub fn ext(kind: u8, units: u8) -> (u8, Vec<u8>) {
    let mut h = vec![0, units];
    h.resize(8 * (usize::from(units) + 1), 0);
    (kind, h)
}

/// Links `headers` into a chain ending in `last_next`: the first Next Header (for the fixed
/// header) and the chain's bytes.
pub fn chain(headers: &[(u8, Vec<u8>)], last_next: u8) -> (u8, Vec<u8>) {
    let mut body = Vec::new();
    for (i, (_, h)) in headers.iter().enumerate() {
        let next = headers.get(i + 1).map_or(last_next, |(k, _)| *k);
        body.push(next);
        body.extend_from_slice(&h[1..]);
    }
    (headers.first().map_or(last_next, |(k, _)| *k), body)
}

/// The fixed IPv6 header for `payload_len` bytes after it, first Next Header `next`.
pub fn v6_fixed(next: u8, payload_len: usize) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload_len as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&V6_SRC);
    h.extend_from_slice(&V6_DST);
    h
}

/// A whole IPv6 datagram: the `unfrag` extension headers, then `payload` of protocol `proto`
/// (which may itself start with extension headers).
pub fn v6_datagram(unfrag: &[(u8, Vec<u8>)], proto: u8, payload: &[u8]) -> Vec<u8> {
    let (first, body) = chain(unfrag, proto);
    let mut d = v6_fixed(first, body.len() + payload.len());
    d.extend_from_slice(&body);
    d.extend_from_slice(payload);
    d
}

/// One IPv6 fragment of `payload` (protocol `proto`) after the `unfrag` extension headers.
pub fn v6_fragment(
    unfrag: &[(u8, Vec<u8>)],
    proto: u8,
    id: u32,
    payload: &[u8],
    offset: usize,
    len: usize,
) -> Vec<u8> {
    let end = (offset + len).min(payload.len());
    v6_raw(
        unfrag,
        proto,
        id,
        offset,
        end < payload.len(),
        &payload[offset..end],
    )
}

/// An IPv6 fragment with arbitrary data.
pub fn v6_raw(
    unfrag: &[(u8, Vec<u8>)],
    proto: u8,
    id: u32,
    offset: usize,
    more: bool,
    data: &[u8],
) -> Vec<u8> {
    let (first, body) = chain(unfrag, 44);
    let mut d = v6_fixed(first, body.len() + 8 + data.len());
    d.extend_from_slice(&body);
    d.extend_from_slice(&[proto, 0]);
    d.extend_from_slice(&((offset as u16) | u16::from(more)).to_be_bytes());
    d.extend_from_slice(&id.to_be_bytes());
    d.extend_from_slice(data);
    d
}

/// Cuts `payload` into IPv6 fragments of `size` bytes (a multiple of 8).
pub fn v6_fragments(
    unfrag: &[(u8, Vec<u8>)],
    proto: u8,
    id: u32,
    payload: &[u8],
    size: usize,
) -> Vec<Vec<u8>> {
    (0..payload.len())
        .step_by(size)
        .map(|off| v6_fragment(unfrag, proto, id, payload, off, size))
        .collect()
}

/// A UDP header and payload (checksum 0).
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// A TCP header without options, with `flags`, then `payload`.
pub fn tcp(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = sport.to_be_bytes().to_vec();
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&0x1000_0000u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

/// A DNS answer to `name`: first a record of `pad` bytes of an unknown type (so that the
/// message needs fragmenting), then `name` IN A `addr`, at the end of the message.
pub fn dns_answer(name: &str, addr: [u8; 4], pad: usize) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&[0, 1, 0, 1]);
    // A TXT record of `pad` bytes (type 16) owned by the question name (a pointer to it).
    m.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 1, 44]);
    m.extend_from_slice(&(pad as u16).to_be_bytes());
    m.extend((0..pad).map(|i| (i % 251) as u8));
    // The A record: TTL 300, 4 bytes.
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4]);
    m.extend_from_slice(&addr);
    m
}

/// Feeds `frames` in order; returns every outcome.
pub fn feed(
    r: &mut Reassembler,
    frames: &[Vec<u8>],
    ts: wirewatch_core::Timestamp,
) -> Vec<Outcome> {
    frames.iter().map(|f| r.add(f, ts)).collect()
}

/// The one datagram completed among `outcomes`, which must all be `Held` before it.
pub fn completed(outcomes: Vec<Outcome>) -> Reassembled {
    let n = outcomes.len();
    let mut done = None;
    for (i, o) in outcomes.into_iter().enumerate() {
        match o {
            Outcome::Complete(d) => {
                assert_eq!(i, n - 1, "completed before the last fragment");
                done = Some(d);
            }
            Outcome::Held => {}
            other => panic!("fragment {i}: {other:?}"),
        }
    }
    done.expect("no datagram completed")
}

/// Every fragment handed in is in exactly one place.
pub fn assert_accounted(r: &Reassembler) {
    let s: ReassemblyStats = r.stats();
    assert_eq!(
        s.fragments,
        s.atomic
            + s.dropped_total()
            + s.fragments_abandoned
            + s.fragments_reassembled
            + r.held_fragments(),
        "{s:?}"
    );
    assert!(r.buffered_bytes() <= r.config().max_bytes);
    assert!(r.in_flight() <= r.config().max_datagrams);
}
