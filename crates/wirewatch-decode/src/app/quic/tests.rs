//! Tests of the QUIC decoder: published key derivation vectors, and round trips through an
//! encryptor written here (AEAD and header protection with the same derivation) that builds
//! client Initial packets around a ClientHello made in the test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use super::crypto::{self, InitialKeys, TAG_LEN};
use super::*;
use proptest::prelude::*;

const ODCID: &[u8] = &[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
const CLIENT_SCID: &[u8] = &[0x0a, 0x0b, 0x0c, 0x0d];
/// The smallest datagram carrying a client Initial (RFC 9000 §14.1).
const MIN_INITIAL_DATAGRAM: usize = 1200;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A variable-length integer in its shortest form.
fn varint(v: u64) -> Vec<u8> {
    match v {
        0..=0x3f => vec![v as u8],
        0x40..=0x3fff => (0x4000 | v as u16).to_be_bytes().to_vec(),
        0x4000..=0x3fff_ffff => (0x8000_0000 | v as u32).to_be_bytes().to_vec(),
        _ => (0xc000_0000_0000_0000 | v).to_be_bytes().to_vec(),
    }
}

/// `body` behind a big-endian length of `width` bytes.
fn vec_n(width: usize, body: &[u8]) -> Vec<u8> {
    let len = body.len().to_be_bytes();
    let mut out = len[len.len() - width..].to_vec();
    out.extend_from_slice(body);
    out
}

fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut out = ty.to_be_bytes().to_vec();
    out.extend(vec_n(2, body));
    out
}

/// A TLS 1.3 ClientHello handshake message as a QUIC client sends it: SNI first, then ALPN
/// `h3`, supported_versions, a key share of `key_share_len` bytes and transport parameters.
fn client_hello(sni: &[u8], key_share_len: usize) -> Vec<u8> {
    let mut body = 0x0303u16.to_be_bytes().to_vec();
    body.extend([0x5a; 32]);
    body.push(0); // empty legacy session id
    body.extend(vec_n(2, &[0x13, 0x01, 0x13, 0x02, 0x13, 0x03]));
    body.extend([1, 0]);
    let mut name = vec![0];
    name.extend(vec_n(2, sni));
    let exts = [
        ext(0, &vec_n(2, &name)),
        ext(16, &vec_n(2, &vec_n(1, b"h3"))),
        ext(43, &vec_n(1, &[3, 4])),
        ext(51, &vec_n(2, &vec![0x77; key_share_len])),
        ext(57, &[0x01, 0x02, 0x67, 0x10]),
    ];
    body.extend(vec_n(2, &exts.concat()));
    let mut msg = vec![1];
    msg.extend(vec_n(3, &body));
    msg
}

fn crypto_frame(offset: usize, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x06];
    out.extend(varint(offset as u64));
    out.extend(varint(data.len() as u64));
    out.extend(data);
    out
}

/// The long packet type bits of `ty` in `version`.
fn type_bits(version: u32, ty: PacketType) -> u8 {
    match (version, ty) {
        (VERSION_2, PacketType::Initial) => 1,
        (VERSION_2, PacketType::Handshake) => 3,
        (_, PacketType::Initial) => 0,
        (_, PacketType::Handshake) => 2,
        _ => unreachable!(),
    }
}

/// A protected long-header packet (Initial with an empty token, or Handshake).
struct Seal<'a> {
    version: u32,
    ty: PacketType,
    dcid: &'a [u8],
    scid: &'a [u8],
    pn: u64,
    pn_len: usize,
    keys: InitialKeys,
}

impl<'a> Seal<'a> {
    /// A client Initial of `version` to `dcid`, protected with the keys of `key_dcid`.
    fn initial(version: u32, dcid: &'a [u8], key_dcid: &[u8], pn: u64) -> Self {
        Self {
            version,
            ty: PacketType::Initial,
            dcid,
            scid: CLIENT_SCID,
            pn,
            pn_len: 2,
            keys: crypto::client_keys(version, key_dcid).unwrap(),
        }
    }

    fn seal(&self, payload: &[u8]) -> Vec<u8> {
        let first = 0xc0 | (type_bits(self.version, self.ty) << 4) | (self.pn_len as u8 - 1);
        let mut header = vec![first];
        header.extend(self.version.to_be_bytes());
        header.extend(vec_n(1, self.dcid));
        header.extend(vec_n(1, self.scid));
        if self.ty == PacketType::Initial {
            header.push(0); // no token
        }
        let length = self.pn_len + payload.len() + TAG_LEN;
        header.extend((0x4000 | length as u16).to_be_bytes());
        let pn_offset = header.len();
        header.extend(&self.pn.to_be_bytes()[8 - self.pn_len..]);
        let mut body = payload.to_vec();
        let nonce = crypto::nonce(&self.keys.iv, self.pn);
        let tag = crypto::seal(&self.keys.key, &nonce, &header, &mut body);
        let mut packet = header;
        packet.extend(body);
        packet.extend(tag);
        let sample: [u8; 16] = packet[pn_offset + 4..pn_offset + 20].try_into().unwrap();
        let mask = crypto::hp_mask(&self.keys.hp, &sample);
        packet[0] ^= mask[0] & 0x0f;
        for i in 0..self.pn_len {
            packet[pn_offset + i] ^= mask[1 + i];
        }
        packet
    }

    /// The packet carrying `frames`, padded with PADDING frames to fill a minimum datagram.
    fn padded(&self, frames: &[u8]) -> Vec<u8> {
        let bare = self.seal(frames).len();
        let mut payload = frames.to_vec();
        payload.resize(frames.len() + MIN_INITIAL_DATAGRAM.saturating_sub(bare), 0);
        self.seal(&payload)
    }
}

/// A one-datagram client Initial of `version` carrying a ClientHello for `sni`.
fn datagram(version: u32, sni: &[u8]) -> Vec<u8> {
    let hello = client_hello(sni, 32);
    Seal::initial(version, ODCID, ODCID, 0).padded(&crypto_frame(0, &hello))
}

#[test]
fn rfc9001_client_keys() {
    assert_eq!(
        crypto::client_secret(VERSION_1, ODCID).unwrap().to_vec(),
        hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
    );
    let keys = crypto::client_keys(VERSION_1, ODCID).unwrap();
    assert_eq!(keys.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
    assert_eq!(keys.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
    assert_eq!(keys.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    // RFC 9001 A.2: header protection of the client Initial with packet number 2.
    let sample: [u8; 16] = hex("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().unwrap();
    assert_eq!(
        crypto::hp_mask(&keys.hp, &sample)[..5].to_vec(),
        hex("437b9aec36")
    );
}

#[test]
fn rfc9369_client_keys() {
    assert_eq!(
        crypto::client_secret(VERSION_2, ODCID).unwrap().to_vec(),
        hex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b")
    );
    let keys = crypto::client_keys(VERSION_2, ODCID).unwrap();
    assert_eq!(keys.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
    assert_eq!(keys.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
    assert_eq!(keys.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    assert!(crypto::client_keys(0xff00_001c, ODCID).is_none());
}

#[test]
fn draft29_client_keys() {
    // draft-ietf-quic-tls-29 Appendix A.1 (same DCID as RFC 9001).
    let keys = crypto::client_keys(VERSION_DRAFT_29, ODCID).unwrap();
    assert_eq!(keys.key.to_vec(), hex("175257a31eb09dea9366d8bb79ad80ba"));
    assert_eq!(keys.iv.to_vec(), hex("6b26114b9cba2b63a9e8dd4f"));
    // The hp key is checked end to end by the draft-29 capture test (tests/quic.rs).
}

#[test]
fn nonce_xors_the_packet_number() {
    let iv = [0xff; 12];
    let n = crypto::nonce(&iv, 0x0102);
    assert_eq!(n[..10], [0xff; 10]);
    assert_eq!(n[10..], [0xfe, 0xfd]);
}

#[test]
fn long_header_fields() {
    // RFC 9001 A.2's unprotected header: Initial, pn length 4, Length 0x449e.
    let bytes = hex("c300000001088394c8f03e5157080000449e00000002");
    let h = parse_long_header(&bytes).unwrap();
    assert_eq!(h.version, VERSION_1);
    assert_eq!(h.packet_type, PacketType::Initial);
    assert!(h.is_initial());
    assert_eq!(h.dcid.as_bytes(), ODCID);
    assert!(h.scid.is_empty());
    assert_eq!(h.token_len, 0);
    assert_eq!(h.length, Some(0x049e));
    assert_eq!(h.pn_offset, 18);
    assert_eq!(format!("{:?}", h.dcid), "ConnectionId(8394c8f03e515708)");
    // The same type bits mean 0-RTT in v2, and v2's Initial is 0b01.
    let mut v2 = bytes.clone();
    v2[1..5].copy_from_slice(&VERSION_2.to_be_bytes());
    assert_eq!(
        parse_long_header(&v2).unwrap().packet_type,
        PacketType::Retry
    );
    v2[0] = 0xd3;
    let h2 = parse_long_header(&v2).unwrap();
    assert_eq!(h2.packet_type, PacketType::Initial);
    assert_eq!(h2.length, Some(0x049e));
    for (first, v1, v2) in [
        (0xc0, PacketType::Initial, PacketType::Retry),
        (0xd0, PacketType::ZeroRtt, PacketType::Initial),
        (0xe0, PacketType::Handshake, PacketType::ZeroRtt),
        (0xf0, PacketType::Retry, PacketType::Handshake),
    ] {
        assert_eq!(packet_type(VERSION_1, (first >> 4) & 3), v1);
        assert_eq!(packet_type(VERSION_2, (first >> 4) & 3), v2);
    }
    // A token and a cut Length field.
    let mut tok = hex("c00000000104aabbccdd00");
    tok.extend([0x03, 1, 2, 3, 0x40]);
    let h = parse_long_header(&tok).unwrap();
    assert_eq!((h.token_len, h.length), (3, None));
    // Connection ids over 20 bytes, cut ids.
    let mut long = vec![0xc0, 0, 0, 0, 1, 21];
    long.extend([0; 30]);
    assert_eq!(parse_long_header(&long), None);
    assert_eq!(parse_long_header(&[0xc0, 0, 0, 0, 1, 8, 1, 2]), None);
    assert_eq!(parse_long_header(&[]), None);
    // Fixed bit clear: only for known versions (RFC 9287 greasing).
    assert!(parse_long_header(&hex("8300000001000000")).is_some());
    assert_eq!(parse_long_header(&hex("831a2a3a4a0000")), None);
}

#[test]
fn round_trip_v1_and_v2() {
    for version in [VERSION_1, VERSION_2, VERSION_DRAFT_29] {
        let d = datagram(version, b"www.example.org");
        assert!(d.len() >= MIN_INITIAL_DATAGRAM);
        let (v, hello) = client_hello_from_datagram(&d).unwrap();
        assert_eq!(v, version);
        assert_eq!(hello.sni.as_ref().unwrap().as_bytes(), b"www.example.org");
        assert_eq!(hello.alpn[0].as_ref().unwrap().as_bytes(), b"h3");
        assert!(hello.complete);
        assert_eq!(hello.ja4_a(), Some("q13d0305h3"));
        let mut c = ClientInitials::default();
        assert!(c.feed(&d));
        assert!(c.hello_complete());
        assert!(!c.wants_more());
        assert_eq!(c.version(), Some(version));
        assert!(c.has_decrypted());
    }
}

#[test]
fn packet_number_lengths() {
    for pn_len in 1..=4 {
        let mut s = Seal::initial(VERSION_1, ODCID, ODCID, 7);
        s.pn_len = pn_len;
        let d = s.padded(&crypto_frame(0, &client_hello(b"pn.example", 0)));
        let (_, hello) = client_hello_from_datagram(&d).unwrap();
        assert_eq!(hello.sni.unwrap().as_bytes(), b"pn.example");
    }
}

#[test]
fn coalesced_packets() {
    let hello = client_hello(b"coalesced.example", 16);
    let initial = Seal::initial(VERSION_1, ODCID, ODCID, 0).seal(&crypto_frame(0, &hello));
    let handshake = Seal {
        ty: PacketType::Handshake,
        keys: crypto::client_keys(VERSION_1, b"other").unwrap(),
        ..Seal::initial(VERSION_1, ODCID, ODCID, 0)
    }
    .seal(&[0x01; 40]);
    let short = [0x41, 0x99, 0x98, 0x97, 0x96, 0x95];
    for parts in [
        vec![&initial[..], &handshake[..], &short[..]],
        vec![&handshake[..], &initial[..], &[0u8; 100][..]],
    ] {
        let d = parts.concat();
        let (_, h) = client_hello_from_datagram(&d).unwrap();
        assert_eq!(h.sni.unwrap().as_bytes(), b"coalesced.example");
    }
    // Two Initial packets in one datagram, each with half the hello.
    let (a, b) = hello.split_at(50);
    let first = Seal::initial(VERSION_2, ODCID, ODCID, 0).seal(&crypto_frame(0, a));
    let second = Seal::initial(VERSION_2, ODCID, ODCID, 1).seal(&crypto_frame(50, b));
    let mut c = ClientInitials::default();
    assert!(c.feed(&[second, first].concat()));
    assert!(c.hello_complete());
    assert_eq!(c.datagrams_tried(), 1);
}

#[test]
fn hello_split_over_datagrams_with_frames_out_of_order() {
    // A post-quantum sized hello: two datagrams.
    let hello = client_hello(b"split.example", 1216 + 32);
    assert!(hello.len() > 1300);
    let mut first_frames = crypto_frame(900, &hello[900..]);
    first_frames.extend([0x01, 0x00, 0x00, 0x01]);
    first_frames.extend(crypto_frame(0, &hello[..400]));
    let mut second_frames = crypto_frame(650, &hello[650..900]);
    second_frames.push(0x01);
    second_frames.extend(crypto_frame(400, &hello[400..650]));
    // The second datagram already addresses the server's chosen id, with the original keys.
    let server_cid: &[u8] = b"server-chosen-id";
    let d1 = Seal::initial(VERSION_1, ODCID, ODCID, 0).padded(&first_frames);
    let d2 = Seal::initial(VERSION_1, server_cid, ODCID, 1).padded(&second_frames);

    let mut c = ClientInitials::default();
    assert!(c.feed(&d1));
    let partial = c.client_hello().unwrap();
    assert_eq!(partial.sni.unwrap().as_bytes(), b"split.example");
    assert!(!partial.complete);
    assert!(!c.hello_complete());
    assert!(c.wants_more());
    assert!(c.feed(&d2));
    let full = c.client_hello().unwrap();
    assert!(full.complete, "{full:?}");
    assert_eq!(full.stop, None);
    assert!(c.hello_complete());
    assert_eq!(c.datagrams_tried(), 2);

    // Before the server answered, both datagrams address the original id: any order works.
    let d2_same = Seal::initial(VERSION_1, ODCID, ODCID, 1).padded(&second_frames);
    let mut c = ClientInitials::default();
    assert!(c.feed(&d2_same));
    assert_eq!(c.client_hello(), None);
    assert!(c.feed(&d1));
    assert!(c.client_hello().unwrap().complete);
}

#[test]
fn server_initials_are_skipped_and_retry_ids_tried() {
    let hello = client_hello(b"retry.example", 600);
    let (a, b) = hello.split_at(300);
    let mut c = ClientInitials::default();
    assert!(c.feed(&Seal::initial(VERSION_1, ODCID, ODCID, 0).padded(&crypto_frame(0, a))));
    // A server Initial fed by mistake: addressed to the client's id, not counted.
    let server = Seal {
        scid: b"srv",
        ..Seal::initial(VERSION_1, CLIENT_SCID, b"srv", 0)
    };
    assert!(!c.feed(&server.padded(&[0x01, 0, 0, 0])));
    assert_eq!(c.datagrams_tried(), 1);
    // After a Retry the keys come from the id the Retry chose.
    let retry_cid: &[u8] = b"retry-cid";
    let after_retry = Seal::initial(VERSION_1, retry_cid, retry_cid, 1);
    assert!(c.feed(&after_retry.padded(&crypto_frame(300, b))));
    assert!(c.hello_complete());
    assert_eq!(
        c.client_hello().unwrap().sni.unwrap().as_bytes(),
        b"retry.example"
    );
}

#[test]
fn corrupted_packets_yield_nothing() {
    let d = datagram(VERSION_1, b"tamper.example");
    for at in [0, 3, 7, 20, 30, 500, d.len() - 17, d.len() - 1] {
        let mut bad = d.clone();
        bad[at] ^= 0x04;
        let mut c = ClientInitials::default();
        assert!(!c.feed(&bad), "flip at {at}");
        assert_eq!(c.client_hello(), None);
        assert_eq!(client_hello_from_datagram(&bad), None);
    }
}

#[test]
fn truncated_datagrams_yield_nothing() {
    let d = datagram(VERSION_2, b"cut.example");
    for n in 0..d.len() {
        let mut c = ClientInitials::default();
        assert!(!c.feed(&d[..n]), "cut at {n}");
        assert_eq!(c.client_hello(), None);
    }
}

#[test]
fn short_headers_are_ignored() {
    let mut d = datagram(VERSION_1, b"short.example");
    d[0] &= 0x7f; // header form bit cleared: a short header
    assert_eq!(parse_long_header(&d), None);
    let mut c = ClientInitials::default();
    assert!(!c.feed(&d));
    assert_eq!(c.version(), None);
    assert_eq!(c.datagrams_tried(), 0);
}

#[test]
fn version_negotiation() {
    let mut d = vec![0x80 | 0x2a, 0, 0, 0, 0, 4, 1, 2, 3, 4, 8];
    d.extend(ODCID);
    d.extend(VERSION_1.to_be_bytes());
    d.extend(VERSION_2.to_be_bytes());
    let h = parse_long_header(&d).unwrap();
    assert_eq!(h.packet_type, PacketType::VersionNegotiation);
    assert!(!h.is_initial());
    assert_eq!(h.length, None);
    assert_eq!(h.scid.as_bytes(), ODCID);
    let mut c = ClientInitials::default();
    assert!(!c.feed(&d));
    assert_eq!(c.version(), None);
}

#[test]
fn unknown_versions_are_reported_not_decrypted() {
    for version in [0x1a2a_3a4a, 0xff00_001c, u32::from_be_bytes(*b"Q046")] {
        let mut d = datagram(VERSION_1, b"unknown.example");
        d[1..5].copy_from_slice(&version.to_be_bytes());
        let h = parse_long_header(&d).unwrap();
        assert_eq!(h.version, version);
        assert_eq!(h.packet_type, PacketType::Unknown);
        assert_eq!(h.length, None);
        let mut c = ClientInitials::default();
        assert!(!c.feed(&d));
        assert_eq!(c.version(), Some(version));
        assert!(!c.has_decrypted());
        assert_eq!(c.datagrams_tried(), 0);
        assert_eq!(client_hello_from_datagram(&d), None);
    }
}

#[test]
fn crypto_bytes_past_the_cap_are_dropped() {
    let hello = client_hello(b"cap.example", 0);
    let mut frames = crypto_frame(0, &hello);
    frames.extend(crypto_frame(MAX_CRYPTO_BYTES - 10, &[0xee; 100]));
    frames.extend([0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x05]);
    frames.extend([1, 2, 3, 4, 5]);
    let mut c = ClientInitials::default();
    assert!(c.feed(&Seal::initial(VERSION_1, ODCID, ODCID, 0).padded(&frames)));
    assert_eq!(c.dropped_crypto_bytes(), 90 + 5);
    assert_eq!(c.crypto.len(), MAX_CRYPTO_BYTES);
    assert!(c.hello_complete());
    assert_eq!(
        c.client_hello().unwrap().sni.unwrap().as_bytes(),
        b"cap.example"
    );
    assert!(core::mem::size_of::<ClientInitials>() <= 160);
}

#[test]
fn datagrams_past_the_cap_are_ignored() {
    let hello = client_hello(b"many.example", 3000);
    let pieces: Vec<&[u8]> = hello.chunks(hello.len() / 6 + 1).collect();
    assert_eq!(pieces.len(), 6);
    let mut c = ClientInitials::default();
    let mut offset = 0;
    for (i, piece) in pieces.iter().enumerate() {
        let d =
            Seal::initial(VERSION_1, ODCID, ODCID, i as u64).padded(&crypto_frame(offset, piece));
        offset += piece.len();
        assert_eq!(c.feed(&d), i < MAX_INITIAL_DATAGRAMS, "datagram {i}");
    }
    assert_eq!(c.datagrams_tried(), MAX_INITIAL_DATAGRAMS);
    assert!(!c.wants_more());
    assert!(!c.hello_complete());
    let kept: usize = pieces[..MAX_INITIAL_DATAGRAMS]
        .iter()
        .map(|p| p.len())
        .sum();
    assert_eq!(c.stream_prefix().len(), kept);
    assert!(!c.client_hello().unwrap().complete);
    // Undecryptable Initials count against the cap too.
    let mut c = ClientInitials::default();
    let mut bad = datagram(VERSION_1, b"x.example");
    let last = bad.len() - 1;
    bad[last] ^= 1;
    for _ in 0..MAX_INITIAL_DATAGRAMS {
        assert!(!c.feed(&bad));
    }
    assert!(!c.feed(&datagram(VERSION_1, b"x.example")));
}

#[test]
fn fuzz_entry_point_on_edge_inputs() {
    fuzz_quic(&[]);
    fuzz_quic(&[0xc0]);
    fuzz_quic(&datagram(VERSION_1, b"fuzz.example"));
    fuzz_quic(&crypto_frame(0, &client_hello(b"plain.example", 0)));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        fuzz_quic(&data);
        let mut long = vec![0xc0, 0, 0, 0, 1, 8];
        long.extend(&data);
        fuzz_quic(&long);
    }

    #[test]
    fn any_bit_flip_fails_authentication(pos in 0usize..MIN_INITIAL_DATAGRAM, bit in 0u8..8, v2 in any::<bool>()) {
        let version = if v2 { VERSION_2 } else { VERSION_1 };
        let mut d = datagram(version, b"flip.example");
        let n = d.len();
        d[pos % n] ^= 1 << bit;
        let mut c = ClientInitials::default();
        prop_assert!(!c.feed(&d));
        prop_assert_eq!(c.client_hello(), None);
        fuzz_quic(&d);
    }

    #[test]
    fn truncations_never_panic(cut in 0usize..MIN_INITIAL_DATAGRAM, flip in any::<(usize, u8)>()) {
        let mut d = datagram(VERSION_1, b"trunc.example");
        let n = d.len();
        d[flip.0 % n] ^= flip.1;
        fuzz_quic(&d[..cut.min(n)]);
    }

    #[test]
    fn sealed_random_frames_never_panic(frames in proptest::collection::vec(any::<u8>(), 4..1200)) {
        let d = Seal::initial(VERSION_1, ODCID, ODCID, 0).seal(&frames);
        let mut c = ClientInitials::default();
        prop_assert!(c.feed(&d));
        let _ = c.client_hello();
        prop_assert!(c.crypto.len() <= MAX_CRYPTO_BYTES);
    }
}
