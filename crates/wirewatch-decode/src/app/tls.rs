//! TLS ClientHello / ServerHello decoding.
//!
//! Owns the first handshake record of a TLS stream in each direction: the server name (SNI),
//! ALPN protocols, offered and negotiated versions, cipher and extension counts, and the JA4_a
//! fingerprint section. It is a pure, lax parser over one captured payload: it does not
//! reassemble TCP segments or TLS records (a hello cut by the segment boundary returns what the
//! first segment holds, marked incomplete), does not decrypt anything and never allocates on the
//! parse path. Every loop over attacker data is bounded by a named constant or by a length
//! field that the loop consumes.
//!
//! Names returned here come from the network: render them with [`TlsName::to_string_lossy`]
//! (or `Display`), which escapes every non-printable byte.

use super::ja4::{self, Ja4Hash};
use crate::read::Cursor;
use core::fmt;

pub use super::ja4::{JA4_A_LEN, JA4_HASH_LEN};

/// Longest server name or ALPN protocol kept, in bytes. DNS names are at most 253 bytes and ALPN
/// identifiers at most 255, so real names are never cut; longer ones are cut to this length.
pub const MAX_SNI_LEN: usize = 255;
/// ALPN protocols kept from a ClientHello. Browsers offer two or three (`h2`, `http/1.1`); the
/// rest are not looked at.
pub const MAX_ALPN: usize = 4;
/// Extensions walked in one hello. Real clients send fewer than 25 (GREASE included); the cap
/// bounds the walk on hostile input.
pub const MAX_EXTENSIONS: usize = 64;
/// Cipher suites inspected for GREASE in one ClientHello. Real clients offer fewer than 100;
/// entries past the cap are counted without being inspected.
pub const MAX_CIPHERS: usize = 128;

/// Server-name entries inspected in the SNI extension (only the first `host_name` is kept; the
/// RFC allows one per type).
const MAX_SNI_ENTRIES: usize = 4;
/// Largest TLS record body: 2^14 plaintext plus 2048 bytes of expansion (RFC 5246 §6.2.3).
const MAX_RECORD_LEN: usize = 16384 + 2048;
/// TLS record header: type, version, length.
const RECORD_HEADER: usize = 5;
/// Handshake header: type and 24-bit length.
const HANDSHAKE_HEADER: usize = 4;
/// Length of the `random` field of both hellos.
const RANDOM_LEN: usize = 32;
/// Longest legal session id.
const MAX_SESSION_ID: usize = 32;

const CONTENT_HANDSHAKE: u8 = 0x16;
const HS_CLIENT_HELLO: u8 = 1;
const HS_SERVER_HELLO: u8 = 2;
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const SNI_HOST_NAME: u8 = 0;

/// A name taken from a hello (SNI host name or ALPN protocol): raw bytes, at most
/// [`MAX_SNI_LEN`], not validated. Attacker-controlled: display it only through
/// [`TlsName::to_string_lossy`] or `Display`, which escape non-printable bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TlsName {
    // Invariant: bytes past `len` are zero, so the derived comparisons are correct.
    bytes: [u8; MAX_SNI_LEN],
    len: u8,
}

impl TlsName {
    /// A name holding `raw`, cut to [`MAX_SNI_LEN`] bytes.
    pub fn from_bytes(raw: &[u8]) -> Self {
        let raw = raw.get(..MAX_SNI_LEN).unwrap_or(raw);
        let mut bytes = [0u8; MAX_SNI_LEN];
        if let Some(dst) = bytes.get_mut(..raw.len()) {
            dst.copy_from_slice(raw);
        }
        Self {
            bytes,
            len: u8::try_from(raw.len()).unwrap_or(u8::MAX),
        }
    }

    /// The raw bytes as sent.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of bytes kept.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the name is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The name as text safe to show anywhere: printable ASCII is kept, every other byte (and
    /// the backslash itself) is written as `\xNN`.
    pub fn to_string_lossy(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for TlsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_escaped(f, self.as_bytes())
    }
}

impl fmt::Debug for TlsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TlsName(\"{self}\")")
    }
}

/// Why a hello parse stopped before the end of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsStop {
    /// The capture ends inside the record or the handshake message (first segment of a hello
    /// spanning several TCP segments, a snaplen cut, or a hello split over TLS records).
    Truncated,
    /// A length field points past its enclosing structure.
    Malformed,
    /// More than [`MAX_EXTENSIONS`] extensions; the rest were not walked.
    TooManyExtensions,
}

/// What a ClientHello says, as far as it was captured.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientHello {
    /// Version in the record header (0 when parsed without one, see
    /// [`parse_client_hello_message`]).
    pub record_version: u16,
    /// `legacy_version` of the hello (0x0303 for TLS 1.2 and 1.3).
    pub client_version: u16,
    /// First `host_name` of the server_name extension.
    pub sni: Option<TlsName>,
    /// First [`MAX_ALPN`] offered ALPN protocols, in order.
    pub alpn: [Option<TlsName>; MAX_ALPN],
    /// Highest non-GREASE version in supported_versions, when the extension was seen.
    pub supported_versions_max: Option<u16>,
    /// Non-GREASE cipher suites (of those captured).
    pub cipher_count: u16,
    /// Non-GREASE extensions (of those captured), SNI and ALPN included.
    pub extension_count: u16,
    /// JA4_a section (`t13d1516h2`) built from what parsed: transport `t`, version, `d`/`i` for
    /// SNI present or not, cipher and extension counts (capped at 99), first and last character
    /// of the first ALPN. A QUIC caller replaces the leading `t` with `q`.
    pub ja4: Option<[u8; JA4_A_LEN]>,
    /// JA4_b (hash of the sorted cipher suites), when the cipher list was captured whole.
    pub ja4_b: Option<Ja4Hash>,
    /// JA4_c (hash of the sorted extensions and the signature algorithms), when every
    /// extension was captured.
    pub ja4_c: Option<Ja4Hash>,
    /// Whether the record and the whole handshake message were captured.
    pub complete: bool,
    /// Why parsing stopped early, if it did.
    pub stop: Option<TlsStop>,
}

impl ClientHello {
    /// The JA4_a section as text (always ASCII).
    pub fn ja4_a(&self) -> Option<&str> {
        self.ja4.as_ref().and_then(|a| core::str::from_utf8(a).ok())
    }

    /// The whole JA4 fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`), when all three
    /// sections are known.
    pub fn ja4_full(&self) -> Option<String> {
        let text = |h: &Ja4Hash| core::str::from_utf8(h).ok().map(str::to_owned);
        let (b, c) = (text(self.ja4_b.as_ref()?)?, text(self.ja4_c.as_ref()?)?);
        Some(format!("{}_{b}_{c}", self.ja4_a()?))
    }

    /// The version the client prefers: highest of supported_versions, else `client_version`.
    pub fn max_version(&self) -> u16 {
        self.supported_versions_max.unwrap_or(self.client_version)
    }
}

/// What a ServerHello says.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerHello {
    /// Negotiated version: supported_versions when present (TLS 1.3), else `legacy_version`.
    pub version: u16,
    /// Selected cipher suite.
    pub cipher: u16,
    /// Selected ALPN protocol.
    pub alpn: Option<TlsName>,
    /// Whether the record and the whole handshake message were captured.
    pub complete: bool,
}

/// GREASE values (RFC 8701: `0x?a?a` with both bytes equal) are ignored in counts and versions.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Parses the start of a TLS stream (client side): a handshake record with a ClientHello.
/// Returns `None` when it is not TLS (SSLv2-compatible hellos included) or when fewer bytes than
/// the record header, handshake header and client version are captured.
pub fn parse_client_hello(payload: &[u8]) -> Option<ClientHello> {
    let (record_version, body, record_cut) = record(payload)?;
    let mut hello = parse_client_hello_message(body)?;
    hello.record_version = record_version;
    if record_cut {
        mark_cut(&mut hello);
    }
    Some(hello)
}

/// Length of the TLS record (header included) whose ClientHello starts `payload`, when it
/// starts one: what a caller gathering a hello split over TCP segments waits for. `None` for
/// anything else, and for a length past the largest legal record.
pub fn client_hello_record_len(payload: &[u8]) -> Option<usize> {
    let [ty, major, _, hi, lo, hs] = *payload.first_chunk::<6>()?;
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    (ty == CONTENT_HANDSHAKE && major == 3 && hs == HS_CLIENT_HELLO && len <= MAX_RECORD_LEN)
        .then_some(RECORD_HEADER + len)
}

/// Parses the start of a TLS stream (server side): a handshake record with a ServerHello.
/// Returns `None` when it is not TLS or when the selected cipher suite is not captured.
pub fn parse_server_hello(payload: &[u8]) -> Option<ServerHello> {
    let (_, body, record_cut) = record(payload)?;
    let (msg, msg_cut) = handshake(body, HS_SERVER_HELLO)?;
    let mut r = Cursor::new(msg);
    let legacy_version = r.u16()?;
    if legacy_version >> 8 != 3 {
        return None;
    }
    r.skip(RANDOM_LEN)?;
    let sid_len = usize::from(r.u8()?);
    if sid_len > MAX_SESSION_ID {
        return None;
    }
    r.skip(sid_len)?;
    let cipher = r.u16()?;
    let mut hello = ServerHello {
        version: legacy_version,
        cipher,
        alpn: None,
        complete: !record_cut && !msg_cut,
    };
    // Compression method, then optional extensions (absent in old servers).
    let ext_block = r.skip(1).and_then(|()| r.vec16_lax());
    let Some((exts, ext_cut)) = ext_block else {
        if !r.at_end() {
            hello.complete = false;
        }
        return Some(hello);
    };
    if ext_cut {
        hello.complete = false;
    }
    let stop = walk_extensions(exts, |ty, body| match ty {
        EXT_SUPPORTED_VERSIONS => {
            if let Some(v) = Cursor::new(body).u16() {
                hello.version = v;
            }
        }
        EXT_ALPN => {
            let mut list = Cursor::new(body);
            if let Some((protos, _)) = list.vec16_lax()
                && let Some((proto, false)) = Cursor::new(protos).vec8_lax()
            {
                hello.alpn = Some(TlsName::from_bytes(proto));
            }
        }
        _ => {}
    });
    if stop.is_some() {
        hello.complete = false;
    }
    Some(hello)
}

/// Parses a ClientHello handshake message without the record header (for QUIC CRYPTO frames):
/// `msg` starts at the handshake type byte. `record_version` is left 0. Returns `None` when the
/// message is not a ClientHello or its version is not captured.
pub fn parse_client_hello_message(msg: &[u8]) -> Option<ClientHello> {
    let (body, msg_cut) = handshake(msg, HS_CLIENT_HELLO)?;
    let mut r = Cursor::new(body);
    let client_version = r.u16()?;
    if client_version >> 8 != 3 {
        return None;
    }
    let mut hello = ClientHello {
        record_version: 0,
        client_version,
        sni: None,
        alpn: [const { None }; MAX_ALPN],
        supported_versions_max: None,
        cipher_count: 0,
        extension_count: 0,
        ja4: None,
        ja4_b: None,
        ja4_c: None,
        complete: !msg_cut,
        stop: None,
    };
    let mut sni_seen = false;
    hello.stop = client_body(&mut r, &mut hello, &mut sni_seen);
    if msg_cut {
        hello.stop = Some(TlsStop::Truncated);
    } else if hello.stop == Some(TlsStop::Truncated) {
        // The whole message is here, so running out of bytes means a length field lied.
        hello.stop = Some(TlsStop::Malformed);
    }
    hello.ja4 = Some(ja4::section_a(&hello, sni_seen));
    Some(hello)
}

/// Parses the ClientHello after `client_version`, filling `hello`; returns why it stopped early.
fn client_body(
    r: &mut Cursor<'_>,
    hello: &mut ClientHello,
    sni_seen: &mut bool,
) -> Option<TlsStop> {
    if r.skip(RANDOM_LEN).is_none() {
        return Some(TlsStop::Truncated);
    }
    let Some(sid_len) = r.u8() else {
        return Some(TlsStop::Truncated);
    };
    if usize::from(sid_len) > MAX_SESSION_ID {
        return Some(TlsStop::Malformed);
    }
    if r.skip(usize::from(sid_len)).is_none() {
        return Some(TlsStop::Truncated);
    }
    let Some((ciphers, ciphers_cut)) = r.vec16_lax() else {
        return Some(TlsStop::Truncated);
    };
    hello.cipher_count = count_ciphers(ciphers);
    if ciphers_cut {
        return Some(TlsStop::Truncated);
    }
    if ciphers.len() % 2 != 0 {
        return Some(TlsStop::Malformed);
    }
    hello.ja4_b = ja4::section_b(ciphers);
    match r.vec8_lax() {
        Some((_, false)) => {}
        _ => return Some(TlsStop::Truncated),
    }
    if r.at_end() {
        // A hello without extensions (pre-TLS 1.2 clients).
        hello.ja4_c = ja4::section_c(None);
        return None;
    }
    let Some((exts, exts_cut)) = r.vec16_lax() else {
        return Some(TlsStop::Truncated);
    };
    let stop = walk_extensions(exts, |ty, body| {
        if !is_grease(ty) {
            hello.extension_count = hello.extension_count.saturating_add(1);
        }
        match ty {
            EXT_SERVER_NAME => {
                *sni_seen = true;
                hello.sni = parse_sni(body);
            }
            EXT_ALPN => parse_alpn(body, &mut hello.alpn),
            EXT_SUPPORTED_VERSIONS => hello.supported_versions_max = parse_versions(body),
            _ => {}
        }
    });
    // A cut extension header still names its type: count it, as the full hello would.
    if exts_cut
        && stop == Some(TlsStop::Truncated)
        && let Some(ty) = cut_extension_type(exts)
    {
        if !is_grease(ty) {
            hello.extension_count = hello.extension_count.saturating_add(1);
        }
        if ty == EXT_SERVER_NAME {
            *sni_seen = true;
        }
    }
    match stop {
        Some(s) => Some(s),
        None if exts_cut => Some(TlsStop::Truncated),
        None => {
            hello.ja4_c = ja4::section_c(Some(exts));
            None
        }
    }
}

/// Non-GREASE cipher suites in `ciphers`; entries past [`MAX_CIPHERS`] are counted unseen.
fn count_ciphers(ciphers: &[u8]) -> u16 {
    let mut count = 0usize;
    let mut chunks = ciphers.chunks_exact(2);
    for c in chunks.by_ref().take(MAX_CIPHERS) {
        if let [hi, lo] = *c
            && !is_grease(u16::from_be_bytes([hi, lo]))
        {
            count += 1;
        }
    }
    count = count.saturating_add(chunks.len());
    u16::try_from(count).unwrap_or(u16::MAX)
}

/// Type of the extension whose header starts the unconsumed tail of a cut extension block, found
/// by walking the complete extensions again (bounded like [`walk_extensions`]).
fn cut_extension_type(exts: &[u8]) -> Option<u16> {
    let mut r = Cursor::new(exts);
    for _ in 0..MAX_EXTENSIONS {
        let ty = r.u16()?;
        let (_, cut) = r.vec16_lax()?;
        if cut {
            return Some(ty);
        }
    }
    None
}

/// Calls `f(type, body)` for each complete extension in `exts` (at most [`MAX_EXTENSIONS`]).
/// Returns why the walk stopped before the end of `exts`, if it did; running out of bytes is
/// reported as [`TlsStop::Truncated`] and the caller decides whether the block was cut.
fn walk_extensions(exts: &[u8], mut f: impl FnMut(u16, &[u8])) -> Option<TlsStop> {
    let mut r = Cursor::new(exts);
    for _ in 0..MAX_EXTENSIONS {
        if r.at_end() {
            return None;
        }
        let Some(ty) = r.u16() else {
            return Some(TlsStop::Truncated);
        };
        match r.vec16_lax() {
            Some((body, false)) => f(ty, body),
            _ => return Some(TlsStop::Truncated),
        }
    }
    if r.at_end() {
        None
    } else {
        Some(TlsStop::TooManyExtensions)
    }
}

/// First `host_name` of a server_name extension body.
fn parse_sni(body: &[u8]) -> Option<TlsName> {
    let (list, _) = Cursor::new(body).vec16_lax()?;
    let mut r = Cursor::new(list);
    for _ in 0..MAX_SNI_ENTRIES {
        let ty = r.u8()?;
        let (name, cut) = r.vec16_lax()?;
        if cut {
            return None;
        }
        if ty == SNI_HOST_NAME {
            return Some(TlsName::from_bytes(name));
        }
    }
    None
}

/// Fills `out` with the first offered ALPN protocols.
fn parse_alpn(body: &[u8], out: &mut [Option<TlsName>; MAX_ALPN]) {
    let Some((list, _)) = Cursor::new(body).vec16_lax() else {
        return;
    };
    let mut r = Cursor::new(list);
    for slot in out.iter_mut() {
        match r.vec8_lax() {
            Some((proto, false)) => *slot = Some(TlsName::from_bytes(proto)),
            _ => return,
        }
    }
}

/// Highest non-GREASE version of a ClientHello supported_versions body (the one-byte length
/// bounds the walk to 127 entries).
fn parse_versions(body: &[u8]) -> Option<u16> {
    let (list, _) = Cursor::new(body).vec8_lax()?;
    list.chunks_exact(2)
        .filter_map(|c| match *c {
            [hi, lo] => Some(u16::from_be_bytes([hi, lo])),
            _ => None,
        })
        .filter(|&v| !is_grease(v))
        .max()
}

/// Checks the TLS record header; returns its version, the captured body and whether the body is
/// cut short.
fn record(payload: &[u8]) -> Option<(u16, &[u8], bool)> {
    let header = payload.first_chunk::<RECORD_HEADER>()?;
    let [ty, major, minor, len_hi, len_lo] = *header;
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if ty != CONTENT_HANDSHAKE || major != 3 || minor > 4 || len == 0 || len > MAX_RECORD_LEN {
        return None;
    }
    let rest = payload.get(RECORD_HEADER..)?;
    let body = rest.get(..len).unwrap_or(rest);
    Some((u16::from_be_bytes([major, minor]), body, body.len() < len))
}

/// Checks the handshake header for message type `want`; returns the captured body and whether
/// it is cut short.
fn handshake(msg: &[u8], want: u8) -> Option<(&[u8], bool)> {
    let header = msg.first_chunk::<HANDSHAKE_HEADER>()?;
    let [ty, l0, l1, l2] = *header;
    if ty != want {
        return None;
    }
    let len = usize::try_from(u32::from_be_bytes([0, l0, l1, l2])).ok()?;
    let rest = msg.get(HANDSHAKE_HEADER..)?;
    let body = rest.get(..len).unwrap_or(rest);
    Some((body, body.len() < len))
}

/// Marks a hello whose record was cut as incomplete.
fn mark_cut(hello: &mut ClientHello) {
    hello.complete = false;
    if hello.stop.is_none() {
        hello.stop = Some(TlsStop::Truncated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Appends `body` behind a big-endian length prefix of `width` bytes.
    fn vec(width: usize, body: &[u8]) -> Vec<u8> {
        let len = body.len().to_be_bytes();
        let mut out = len[len.len() - width..].to_vec();
        out.extend_from_slice(body);
        out
    }

    fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
        let mut out = ty.to_be_bytes().to_vec();
        out.extend(vec(2, body));
        out
    }

    fn sni_ext(name: &[u8]) -> Vec<u8> {
        let mut entry = vec![SNI_HOST_NAME];
        entry.extend(vec(2, name));
        ext(EXT_SERVER_NAME, &vec(2, &entry))
    }

    fn alpn_ext(protos: &[&[u8]]) -> Vec<u8> {
        let list: Vec<u8> = protos.iter().flat_map(|p| vec(1, p)).collect();
        ext(EXT_ALPN, &vec(2, &list))
    }

    /// A ClientHello handshake message (no record header).
    fn client_hello_msg(ciphers: &[u16], exts: &[Vec<u8>]) -> Vec<u8> {
        let mut body = 0x0303u16.to_be_bytes().to_vec();
        body.extend([0x11; RANDOM_LEN]);
        body.extend(vec(1, &[0x22; 32]));
        let cs: Vec<u8> = ciphers.iter().flat_map(|c| c.to_be_bytes()).collect();
        body.extend(vec(2, &cs));
        body.extend(vec(1, &[0]));
        body.extend(vec(2, &exts.concat()));
        let mut msg = vec![HS_CLIENT_HELLO];
        msg.extend(vec(3, &body));
        msg
    }

    fn record(msg: &[u8]) -> Vec<u8> {
        let mut out = vec![CONTENT_HANDSHAKE, 3, 1];
        out.extend(vec(2, msg));
        out
    }

    /// 16 ciphers (one GREASE + 15 real) and 17 extensions (one GREASE + 16 real), like Chrome.
    fn chrome_like() -> Vec<u8> {
        let mut ciphers = vec![0x1a1a];
        ciphers.extend(0x1301..0x1310);
        let mut exts = vec![ext(0x2a2a, &[]), sni_ext(b"example.com")];
        exts.push(alpn_ext(&[b"h2", b"http/1.1"]));
        exts.push(ext(
            EXT_SUPPORTED_VERSIONS,
            &vec(1, &[0x3a, 0x3a, 3, 4, 3, 3]),
        ));
        for ty in 0..13u16 {
            exts.push(ext(100 + ty, &[ty as u8; 3]));
        }
        record(&client_hello_msg(&ciphers, &exts))
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a));
        assert!(is_grease(0xfafa));
        assert!(!is_grease(0x0a1a));
        assert!(!is_grease(0x1301));
        assert_eq!((0..=u16::MAX).filter(|&v| is_grease(v)).count(), 16);
    }

    #[test]
    fn full_client_hello() {
        let bytes = chrome_like();
        let h = parse_client_hello(&bytes).unwrap();
        assert_eq!(h.record_version, 0x0301);
        assert_eq!(h.client_version, 0x0303);
        assert_eq!(h.sni.as_ref().unwrap().as_bytes(), b"example.com");
        assert_eq!(h.alpn[0].as_ref().unwrap().as_bytes(), b"h2");
        assert_eq!(h.alpn[1].as_ref().unwrap().as_bytes(), b"http/1.1");
        assert_eq!(h.alpn[2], None);
        assert_eq!(h.alpn[3], None);
        assert_eq!(h.supported_versions_max, Some(0x0304));
        assert_eq!(h.cipher_count, 15);
        assert_eq!(h.extension_count, 16);
        assert_eq!(h.ja4_a(), Some("t13d1516h2"));
        assert!(h.complete);
        assert_eq!(h.stop, None);
        // The bare message parses the same, minus the record version.
        let m = parse_client_hello_message(&bytes[RECORD_HEADER..]).unwrap();
        assert_eq!(
            m,
            ClientHello {
                record_version: 0,
                ..h
            }
        );
    }

    #[test]
    fn whole_ja4_only_from_whole_lists() {
        let bytes = chrome_like();
        let h = parse_client_hello(&bytes).unwrap();
        let full = h.ja4_full().unwrap();
        assert!(full.starts_with("t13d1516h2_"), "{full}");
        assert_eq!(full.len(), JA4_A_LEN + 2 * JA4_HASH_LEN + 2);
        // The same hello cut inside its extensions keeps JA4_a and JA4_b, not JA4_c.
        let cut = parse_client_hello(&bytes[..bytes.len() - 2]).unwrap();
        assert_eq!(cut.ja4_a(), h.ja4_a());
        assert_eq!(cut.ja4_b, h.ja4_b);
        assert_eq!(cut.ja4_c, None);
        assert_eq!(cut.ja4_full(), None);
        // Cut inside the cipher list: neither hash.
        let early =
            parse_client_hello(&bytes[..RECORD_HEADER + 4 + 2 + RANDOM_LEN + 33 + 6]).unwrap();
        assert_eq!((early.ja4_b, early.ja4_c), (None, None));
    }

    #[test]
    fn minimal_hello_without_sni_or_alpn() {
        let bytes = record(&client_hello_msg(&[0x002f], &[]));
        let h = parse_client_hello(&bytes).unwrap();
        assert_eq!(h.ja4_a(), Some("t12i010000"));
        assert!(h.complete);
        assert_eq!(h.sni, None);
    }

    #[test]
    fn odd_alpn_uses_hex() {
        let bytes = record(&client_hello_msg(&[1], &[alpn_ext(&[b"\xabx-"])]));
        let h = parse_client_hello(&bytes).unwrap();
        assert_eq!(h.ja4_a(), Some("t12i0101ad"));
    }

    #[test]
    fn cut_at_every_byte() {
        let bytes = chrome_like();
        let sni_end = bytes.windows(11).position(|w| w == b"example.com").unwrap() + 11;
        for n in 0..bytes.len() {
            let Some(h) = parse_client_hello(&bytes[..n]) else {
                assert!(n < RECORD_HEADER + HANDSHAKE_HEADER + 2, "None at {n}");
                continue;
            };
            assert!(!h.complete, "complete at {n}");
            assert_eq!(h.stop, Some(TlsStop::Truncated), "at {n}");
            assert_eq!(h.sni.is_some(), n >= sni_end, "sni at {n}");
            assert!(h.ja4.is_some());
        }
    }

    #[test]
    fn lying_lengths_are_malformed() {
        let mut msg = client_hello_msg(&[1, 2], &[sni_ext(b"a.b")]);
        let last = msg.len() - 1;
        // Extension block claims more bytes than the complete message holds.
        let ext_len_at = last - (2 + 2 + 2 + 1 + 2 + 3) - 1;
        msg[ext_len_at] = 0xff;
        let h = parse_client_hello_message(&msg).unwrap();
        assert_eq!(h.stop, Some(TlsStop::Malformed));
        assert!(h.complete);
    }

    #[test]
    fn too_many_extensions() {
        let exts: Vec<Vec<u8>> = (0..MAX_EXTENSIONS as u16 + 5)
            .map(|t| ext(t + 100, &[]))
            .collect();
        let h = parse_client_hello(&record(&client_hello_msg(&[1], &exts))).unwrap();
        assert_eq!(h.stop, Some(TlsStop::TooManyExtensions));
        assert_eq!(usize::from(h.extension_count), MAX_EXTENSIONS);
        assert_eq!(h.ja4_a(), Some("t12i016400"));
    }

    #[test]
    fn not_tls() {
        assert_eq!(
            parse_client_hello(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            None
        );
        // SSLv2-compatible ClientHello.
        assert_eq!(
            parse_client_hello(&[0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0x15, 0, 0, 0, 0x10]),
            None
        );
        // Application data record, alert record, ServerHello given to the client parser.
        let mut bytes = chrome_like();
        bytes[0] = 0x17;
        assert_eq!(parse_client_hello(&bytes), None);
        bytes[0] = 0x16;
        bytes[RECORD_HEADER] = HS_SERVER_HELLO;
        assert_eq!(parse_client_hello(&bytes), None);
        assert_eq!(parse_server_hello(&chrome_like()), None);
        assert_eq!(parse_client_hello(&[]), None);
    }

    fn server_hello(exts: &[Vec<u8>]) -> Vec<u8> {
        let mut body = 0x0303u16.to_be_bytes().to_vec();
        body.extend([0x33; RANDOM_LEN]);
        body.extend(vec(1, &[0x44; 32]));
        body.extend(0x1302u16.to_be_bytes());
        body.push(0);
        body.extend(vec(2, &exts.concat()));
        let mut msg = vec![HS_SERVER_HELLO];
        msg.extend(vec(3, &body));
        let mut out = vec![CONTENT_HANDSHAKE, 3, 3];
        out.extend(vec(2, &msg));
        out
    }

    #[test]
    fn server_hello_tls13() {
        let bytes = server_hello(&[
            ext(EXT_SUPPORTED_VERSIONS, &[3, 4]),
            ext(EXT_ALPN, &vec(2, &vec(1, b"h2"))),
            ext(51, &[0; 36]),
        ]);
        let s = parse_server_hello(&bytes).unwrap();
        assert_eq!(s.version, 0x0304);
        assert_eq!(s.cipher, 0x1302);
        assert_eq!(s.alpn.as_ref().unwrap().as_bytes(), b"h2");
        assert!(s.complete);
        for n in 0..bytes.len() {
            if let Some(s) = parse_server_hello(&bytes[..n]) {
                assert!(!s.complete);
                assert_eq!(s.cipher, 0x1302);
            }
        }
        let tls12 = parse_server_hello(&server_hello(&[])).unwrap();
        assert_eq!(tls12.version, 0x0303);
        assert_eq!(tls12.alpn, None);
        assert!(tls12.complete);
    }

    #[test]
    fn hostile_sni_is_escaped() {
        let bytes = record(&client_hello_msg(&[1], &[sni_ext(b"\x1b[31mevil\0.com\\")]));
        let h = parse_client_hello(&bytes).unwrap();
        let sni = h.sni.unwrap();
        assert_eq!(sni.as_bytes(), b"\x1b[31mevil\0.com\\");
        assert_eq!(sni.to_string_lossy(), "\\x1b[31mevil\\x00.com\\x5c");
        assert_eq!(
            format!("{sni:?}"),
            "TlsName(\"\\x1b[31mevil\\x00.com\\x5c\")"
        );
    }

    #[test]
    fn long_names_are_cut() {
        let long = [b'a'; 400];
        let bytes = record(&client_hello_msg(&[1], &[sni_ext(&long)]));
        let h = parse_client_hello(&bytes).unwrap();
        assert_eq!(h.sni.unwrap().len(), MAX_SNI_LEN);
        assert!(TlsName::from_bytes(b"").is_empty());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_client_hello(&data);
            let _ = parse_server_hello(&data);
            let _ = parse_client_hello_message(&data);
        }

        #[test]
        fn mutated_hello_never_panics(pos in 0usize..400, val in any::<u8>(), cut in 0usize..400) {
            let mut bytes = chrome_like();
            let n = bytes.len();
            bytes[pos % n] = val;
            let _ = parse_client_hello(&bytes[..cut.min(n)]);
            let _ = parse_client_hello(&bytes);
            let _ = parse_client_hello_message(&bytes[RECORD_HEADER..]);
        }
    }
}
