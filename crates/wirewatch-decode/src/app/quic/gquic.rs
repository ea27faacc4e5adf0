//! Google QUIC (gQUIC) client hellos: the unencrypted `CHLO` handshake message of versions
//! `Q0xx` up to Q046, which carries the server name (`SNI` tag) and the user agent (`UAID`).
//!
//! Two header forms are recognised: the gQUIC public header (Q043 and earlier: a flags byte
//! with the version bit 0x01 and the 8-byte connection id bit 0x08, the id, then the version)
//! and the IETF-style long header that Q046 uses (first byte with the two top bits set, then the
//! version). The `CHLO` tag is then searched for in the first [`GQUIC_SEARCH_LEN`] bytes instead
//! of walking the null-encrypted packet's hash and STREAM frame, which changed between
//! versions. Q050 and later encrypt their Initial packets like IETF QUIC (with other salts)
//! and are not decrypted here: they yield `None` unless their ciphertext happens to hold a
//! well-formed `CHLO`.

use super::super::tls::TlsName;

/// Bytes of a datagram searched for the `CHLO` tag. The tag follows the public header (at most
/// 19 bytes), the 12-byte message hash and the STREAM frame header (at most 15 bytes), so it
/// sits within the first 50 bytes in practice; the bound leaves room and keeps the search cheap.
pub const GQUIC_SEARCH_LEN: usize = 256;
/// Tag-value entries examined in a `CHLO`. Chrome's carry about 20 (PAD, SNI, VER, CCS, UAID,
/// TCID, PDMD, SMHL, ICSL, NONP, MIDS, SCLS, CSCT, COPT, CCRT, IRTT, CFCW, SFCW...); entries
/// past the cap are not looked at.
pub const MAX_GQUIC_TAGS: usize = 64;

/// The handshake message tag of a client hello.
const TAG_CHLO: &[u8; 4] = b"CHLO";
/// Server name tag (tags are four bytes, padded with NUL).
const TAG_SNI: &[u8; 4] = b"SNI\0";
/// User agent tag.
const TAG_UAID: &[u8; 4] = b"UAID";
/// Public header flag: the version field is present (clients set it until the handshake ends).
const FLAG_VERSION: u8 = 0x01;
/// Public header flag: public reset packet.
const FLAG_RESET: u8 = 0x02;
/// Public header flag: an 8-byte connection id is present.
const FLAG_CID: u8 = 0x08;
/// The top bit of the public header flags: unused (must be 0) before Q044; set in the
/// IETF-style long header of Q046.
const FLAG_LONG: u8 = 0x80;
/// The second bit of an IETF-style long header (fixed bit).
const FLAG_FIXED: u8 = 0x40;
/// Length of a gQUIC connection id in the public header.
const CID_LEN: usize = 8;
/// Message tag, entry count (u16) and padding (u16).
const MESSAGE_HEADER: usize = 8;
/// One table entry: tag and end offset (u32), both little-endian.
const ENTRY_LEN: usize = 8;

/// What a gQUIC client hello says.
#[derive(Debug, Clone, PartialEq)]
pub struct GquicHello {
    /// The version as sent, big-endian ASCII: `Q043` is `0x5130_3433`.
    pub version: u32,
    /// Value of the `SNI` tag. Attacker-controlled: display through `Display`, which escapes.
    pub sni: Option<TlsName>,
    /// Value of the `UAID` tag (user agent, e.g. `Chrome/52.0.2743.116 Linux x86_64`), cut to
    /// [`super::super::tls::MAX_SNI_LEN`] bytes. Attacker-controlled like `sni`.
    pub uaid: Option<TlsName>,
}

/// Whether `version` is a gQUIC version: `Q` followed by three ASCII digits.
pub fn is_gquic_version(version: u32) -> bool {
    let [q, a, b, c] = version.to_be_bytes();
    q == b'Q' && a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()
}

/// The gQUIC version of a client datagram's header, if it has one of the two known forms.
fn header_version(datagram: &[u8]) -> Option<u32> {
    let flags = *datagram.first()?;
    let at = if flags & FLAG_LONG != 0 {
        if flags & FLAG_FIXED == 0 {
            return None;
        }
        1
    } else {
        if flags & (FLAG_VERSION | FLAG_CID) != FLAG_VERSION | FLAG_CID || flags & FLAG_RESET != 0 {
            return None;
        }
        1 + CID_LEN
    };
    let version = u32::from_be_bytes(*datagram.get(at..)?.first_chunk::<4>()?);
    is_gquic_version(version).then_some(version)
}

/// Parses the unencrypted client hello of a gQUIC datagram (see the module doc for the versions
/// covered). Returns `None` when the datagram has no gQUIC client header or no `CHLO` within its
/// first [`GQUIC_SEARCH_LEN`] bytes. A hello whose tag table is malformed (decreasing end
/// offsets, values past the datagram) keeps the values read before the problem.
pub fn gquic_client_hello(datagram: &[u8]) -> Option<GquicHello> {
    let version = header_version(datagram)?;
    let window = datagram.get(..GQUIC_SEARCH_LEN).unwrap_or(datagram);
    let at = window.windows(TAG_CHLO.len()).position(|w| w == TAG_CHLO)?;
    let message = datagram.get(at..)?;
    let mut hello = GquicHello {
        version,
        sni: None,
        uaid: None,
    };
    parse_message(message, &mut hello)?;
    Some(hello)
}

/// Reads the tag-value map of the message at the start of `message` into `hello`; `None` when
/// even the message header is cut.
fn parse_message(message: &[u8], hello: &mut GquicHello) -> Option<()> {
    let header = message.first_chunk::<MESSAGE_HEADER>()?;
    let [_, _, _, _, n0, n1, _, _] = *header;
    let count = usize::from(u16::from_le_bytes([n0, n1]));
    let table = message.get(MESSAGE_HEADER..)?;
    // At most 65535 entries of 8 bytes: no overflow.
    let values = table.get(count * ENTRY_LEN..).unwrap_or(&[]);
    let mut start = 0usize;
    for entry in table
        .chunks_exact(ENTRY_LEN)
        .take(count.min(MAX_GQUIC_TAGS))
    {
        let (tag, end) = entry.split_first_chunk::<4>()?;
        let end = usize::try_from(u32::from_le_bytes(*end.first_chunk::<4>()?)).ok()?;
        let Some(value) = values.get(start..end) else {
            // Decreasing offset, or a value past the captured bytes: stop here.
            break;
        };
        match tag {
            TAG_SNI => hello.sni = Some(TlsName::from_bytes(value)),
            TAG_UAID => hello.uaid = Some(TlsName::from_bytes(value)),
            _ => {}
        }
        start = end;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CHLO message with `(tag, value)` entries in the given order.
    pub(crate) fn chlo(entries: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut out = TAG_CHLO.to_vec();
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend([0, 0]);
        let mut end = 0u32;
        for (tag, value) in entries {
            end += value.len() as u32;
            out.extend(*tag);
            out.extend(end.to_le_bytes());
        }
        for (_, value) in entries {
            out.extend(*value);
        }
        out
    }

    /// A Q043 client packet: public header, message hash, STREAM frame on stream 1.
    fn q043(message: &[u8]) -> Vec<u8> {
        let mut out = vec![FLAG_VERSION | FLAG_CID];
        out.extend([0x11; CID_LEN]);
        out.extend(b"Q043");
        out.push(1); // packet number
        out.extend([0x22; 12]); // message hash
        out.extend([0xa0, 0x01]); // STREAM frame with a length field, stream 1
        out.extend((message.len() as u16).to_be_bytes());
        out.extend(message);
        out
    }

    fn sample_chlo() -> Vec<u8> {
        chlo(&[
            (b"PAD\0", &[b'-'; 40]),
            (TAG_SNI, b"www.example.com"),
            (b"VER\0", b"Q043"),
            (TAG_UAID, b"Chrome/99 Linux x86_64"),
        ])
    }

    #[test]
    fn q043_hello() {
        let h = gquic_client_hello(&q043(&sample_chlo())).unwrap();
        assert_eq!(h.version, u32::from_be_bytes(*b"Q043"));
        assert_eq!(h.sni.unwrap().as_bytes(), b"www.example.com");
        assert_eq!(h.uaid.unwrap().as_bytes(), b"Chrome/99 Linux x86_64");
    }

    #[test]
    fn q046_long_header_hello() {
        let mut d = vec![0xc3];
        d.extend(b"Q046");
        d.push(0x50);
        d.extend([0x33; CID_LEN]);
        d.extend([0, 0, 0, 1]);
        d.extend([0x22; 12]);
        d.extend([0xa0, 0x01, 0x00, 0x00]);
        d.extend(chlo(&[(TAG_SNI, b"q46.example")]));
        let h = gquic_client_hello(&d).unwrap();
        assert_eq!(h.version, u32::from_be_bytes(*b"Q046"));
        assert_eq!(h.sni.unwrap().as_bytes(), b"q46.example");
        assert_eq!(h.uaid, None);
    }

    #[test]
    fn not_gquic() {
        let mut d = q043(&sample_chlo());
        d[9] = b'T'; // T043 (TLS-based) is not handled
        assert_eq!(gquic_client_hello(&d), None);
        let mut d = q043(&sample_chlo());
        d[0] = FLAG_VERSION; // no connection id
        assert_eq!(gquic_client_hello(&d), None);
        d[0] = FLAG_VERSION | FLAG_CID | FLAG_RESET;
        assert_eq!(gquic_client_hello(&d), None);
        // IETF QUIC v1 long header.
        assert_eq!(gquic_client_hello(&[0xc0, 0, 0, 0, 1, 0]), None);
        assert_eq!(gquic_client_hello(&[]), None);
        // No CHLO (an encrypted Q050 packet looks like this).
        let mut d = vec![0xc3];
        d.extend(b"Q050");
        d.extend([0x5a; 200]);
        assert_eq!(gquic_client_hello(&d), None);
        // CHLO beyond the search window.
        let mut far = q043(&[0u8; GQUIC_SEARCH_LEN]);
        far.extend(sample_chlo());
        assert_eq!(gquic_client_hello(&far), None);
        assert!(is_gquic_version(u32::from_be_bytes(*b"Q039")));
        assert!(!is_gquic_version(1));
    }

    #[test]
    fn malformed_tag_tables() {
        // Decreasing offsets: the SNI after the bad entry is not read.
        let mut m = chlo(&[(b"PAD\0", b"xxxx"), (b"VER\0", b"Q043"), (TAG_SNI, b"a.b")]);
        m[MESSAGE_HEADER + 4..MESSAGE_HEADER + 8].copy_from_slice(&100u32.to_le_bytes());
        let h = gquic_client_hello(&q043(&m)).unwrap();
        assert_eq!(h.sni, None);
        // A value past the datagram.
        let mut m = chlo(&[(TAG_UAID, b"ua"), (TAG_SNI, b"a.b")]);
        m[MESSAGE_HEADER + 12..MESSAGE_HEADER + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let h = gquic_client_hello(&q043(&m)).unwrap();
        assert_eq!(h.uaid.unwrap().as_bytes(), b"ua");
        assert_eq!(h.sni, None);
        // A huge entry count over a short table.
        let mut m = chlo(&[(TAG_SNI, b"a.b")]);
        m[4..6].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(gquic_client_hello(&q043(&m)).unwrap().sni, None);
        // Cut message header.
        let d = q043(b"CHLO\x01");
        assert_eq!(gquic_client_hello(&d), None);
        // Entries past MAX_GQUIC_TAGS are not read.
        let pads: Vec<(&[u8; 4], &[u8])> =
            (0..MAX_GQUIC_TAGS).map(|_| (b"PAD\0", &b"p"[..])).collect();
        let mut entries = pads.clone();
        entries.push((TAG_SNI, b"late.example"));
        assert_eq!(
            gquic_client_hello(&q043(&chlo(&entries))).unwrap().sni,
            None
        );
        let mut entries = pads[1..].to_vec();
        entries.push((TAG_SNI, b"late.example"));
        assert!(
            gquic_client_hello(&q043(&chlo(&entries)))
                .unwrap()
                .sni
                .is_some()
        );
        // Every cut of a good packet parses without panicking.
        let d = q043(&sample_chlo());
        for n in 0..d.len() {
            let _ = gquic_client_hello(&d[..n]);
        }
    }
}
