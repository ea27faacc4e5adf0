//! DNS message decoding (RFC 1035) for payloads carried over UDP or TCP.
//!
//! Owns the 12-byte header, the question section and the answer section (A, AAAA and CNAME
//! records are decoded; others keep only their length). Authority and additional sections are
//! not read. Names are kept as raw bytes in fixed-size buffers (no allocation); only the small,
//! capped question and answer lists allocate.
//!
//! Every input is attacker-controlled: compression pointers are followed at most
//! [`MAX_POINTER_JUMPS`] times and only strictly backwards, labels and names are length-checked,
//! and a message that stops early keeps what parsed and says why in [`DnsMessage::error`].
//! This module does no I/O, reads no clock, never logs and never panics. Names must be shown
//! through [`DnsName::to_string_lossy`], which escapes every byte that could reach a terminal
//! or a log as a control character.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::read::{be16, chunk, u8_at};

/// Questions kept per message. Real queries carry exactly one; a few more leave room for odd
/// but harmless senders without letting a hostile count grow the list.
pub const MAX_QUESTIONS: usize = 4;
/// Answer records kept per message: enough for typical CDN chains (CNAMEs plus a handful of
/// addresses); records past this are not parsed.
pub const MAX_ANSWERS: usize = 16;
/// Size of a name buffer: the RFC 1035 limit on a name's wire length (255 bytes), which also
/// bounds its dotted form.
pub const MAX_NAME_LEN: usize = 255;
/// Compression pointers followed per name. Pointers must go strictly backwards, so a legal
/// name never needs many; this caps the work a crafted chain can cause.
pub const MAX_POINTER_JUMPS: usize = 16;

/// Labels per name: a 255-byte wire name holds at most 127 one-byte labels. Bounds the label
/// walk even if the length checks were relaxed.
const MAX_LABELS: usize = 127;
/// Longest label (RFC 1035: the two top bits of the length byte must be 00).
const MAX_LABEL_LEN: u8 = 63;
/// DNS header length.
const HEADER_LEN: usize = 12;
/// Highest opcode in use (6 = DNS Stateful Operations, RFC 8490); anything above is not DNS.
const MAX_OPCODE: u8 = 6;

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;

/// Why a message stopped parsing before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// The payload ended inside a name, a fixed field or record data.
    Truncated,
    /// A compression pointer points forwards or outside the message.
    BadPointer,
    /// A compression pointer points back into the name being read, or the chain exceeds
    /// [`MAX_POINTER_JUMPS`].
    PointerLoop,
    /// A name's wire length exceeds 255 bytes.
    NameTooLong,
    /// A name has more labels than a 255-byte name can hold.
    TooManyLabels,
    /// A label length byte above 63 (extended or reserved label types).
    LabelTooLong,
}

/// A domain name in dotted form, as raw bytes (labels may hold any byte, even dots or NULs).
///
/// The root name is empty. Display it only through [`DnsName::to_string_lossy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsName {
    bytes: [u8; MAX_NAME_LEN],
    len: u8,
    /// Labels in the name.
    labels: u8,
    /// Bit set per byte position of `bytes` that is a label separator (not a dot inside a label).
    separators: [u8; MAX_NAME_LEN.div_ceil(8)],
    /// The name is incomplete: parsing stopped inside it, or it did not fit the buffer.
    pub truncated: bool,
}

impl Default for DnsName {
    fn default() -> Self {
        Self::root()
    }
}

impl DnsName {
    /// The root (empty) name.
    pub const fn root() -> Self {
        Self {
            bytes: [0; MAX_NAME_LEN],
            len: 0,
            labels: 0,
            separators: [0; MAX_NAME_LEN.div_ceil(8)],
            truncated: false,
        }
    }

    /// Builds a name from raw labels; bytes that do not fit the buffer are dropped and the name
    /// is marked truncated. Handy for tests and for callers that synthesise names.
    pub fn from_labels<'a, I: IntoIterator<Item = &'a [u8]>>(labels: I) -> Self {
        let mut name = Self::root();
        for label in labels.into_iter().take(MAX_LABELS) {
            name.push_label(label);
        }
        name
    }

    /// The dotted form's raw bytes (no trailing dot; empty for the root).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of labels (0 for the root).
    pub fn label_count(&self) -> usize {
        usize::from(self.labels)
    }

    /// Length of the dotted form in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether this is the root name.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether byte `i` of the dotted form separates two labels.
    fn is_separator(&self, i: usize) -> bool {
        self.separators
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// Appends `byte` if it fits; otherwise marks the name truncated.
    fn push_byte(&mut self, byte: u8, separator: bool) -> bool {
        let i = usize::from(self.len);
        match self.bytes.get_mut(i) {
            Some(slot) => {
                *slot = byte;
                if separator && let Some(bits) = self.separators.get_mut(i / 8) {
                    *bits |= 1 << (i % 8);
                }
                self.len = self.len.saturating_add(1);
                true
            }
            None => {
                self.truncated = true;
                false
            }
        }
    }

    /// Appends one label (with a separator before it unless it is the first).
    fn push_label(&mut self, label: &[u8]) {
        if self.labels > 0 && !self.push_byte(b'.', true) {
            return;
        }
        self.labels = self.labels.saturating_add(1);
        for &b in label {
            if !self.push_byte(b, false) {
                return;
            }
        }
    }

    /// The name for display, escaped like `dig`: printable ASCII as is, `.` inside a label as
    /// `\.`, `\` as `\\`, every other byte (space, controls, non-ASCII) as `\DDD` in decimal.
    /// The root is `"."`. The result never contains a control character.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        let bytes = self.as_bytes();
        if bytes.is_empty() {
            return Cow::Borrowed(".");
        }
        let plain = bytes.iter().enumerate().all(|(i, &b)| {
            (b.is_ascii_graphic() && b != b'\\' && b != b'.') || (b == b'.' && self.is_separator(i))
        });
        if plain && let Ok(s) = std::str::from_utf8(bytes) {
            return Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(bytes.len() + 8);
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'.' && self.is_separator(i) {
                out.push('.');
            } else if b == b'.' || b == b'\\' {
                out.push('\\');
                out.push(char::from(b));
            } else if b.is_ascii_graphic() {
                out.push(char::from(b));
            } else {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\{b:03}");
            }
        }
        Cow::Owned(out)
    }
}

/// One entry of the question section.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsQuestion {
    /// The queried name.
    pub name: DnsName,
    /// QTYPE (1 = A, 28 = AAAA, …); 0 when the message ended before it.
    pub qtype: u16,
    /// QCLASS (1 = IN); 0 when the message ended before it.
    pub qclass: u16,
}

/// Decoded record data of an answer.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "names are inline by design (no allocation per record); answers already live in a capped Vec"
)]
pub enum RData {
    /// An IPv4 address (type A with 4 bytes of data).
    A(Ipv4Addr),
    /// An IPv6 address (type AAAA with 16 bytes of data).
    Aaaa(Ipv6Addr),
    /// A canonical name (type CNAME); possibly incomplete, see [`DnsName::truncated`].
    Cname(DnsName),
    /// Any other type, or A/AAAA data of the wrong length.
    Other {
        /// RDLENGTH.
        len: u16,
    },
}

/// One resource record of the answer section.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsAnswer {
    /// The owner name.
    pub name: DnsName,
    /// TYPE.
    pub rtype: u16,
    /// TTL in seconds.
    pub ttl: u32,
    /// The record data.
    pub data: RData,
}

/// A decoded DNS message (header, questions and the first answers).
#[derive(Debug, Clone, PartialEq)]
pub struct DnsMessage {
    /// Transaction ID.
    pub id: u16,
    /// QR bit: this is a response.
    pub response: bool,
    /// OPCODE (0 = query).
    pub opcode: u8,
    /// RCODE from the header (3 = NXDOMAIN).
    pub rcode: u8,
    /// TC bit: the sender truncated the message (not the capture).
    pub truncated: bool,
    /// QDCOUNT as sent.
    pub question_count: u16,
    /// ANCOUNT as sent.
    pub answer_count: u16,
    /// Parsed questions, at most [`MAX_QUESTIONS`].
    pub questions: Vec<DnsQuestion>,
    /// Parsed answers, at most [`MAX_ANSWERS`].
    pub answers: Vec<DnsAnswer>,
    /// Why parsing stopped early, if it did.
    pub error: Option<DnsError>,
}

/// Parses a DNS message carried over UDP (the whole payload).
///
/// Returns `None` when the payload cannot be DNS at all: shorter than the 12-byte header, an
/// unassigned opcode, or all four section counts zero. Otherwise returns what parsed, with
/// [`DnsMessage::error`] set when the message stopped early.
pub fn parse_udp(payload: &[u8]) -> Option<DnsMessage> {
    parse_message(payload)
}

/// Parses DNS over TCP: a 2-byte length prefix then the message (only the first message).
///
/// A message cut short by the capture is parsed as far as it goes (reporting
/// [`DnsError::Truncated`] where it ends).
pub fn parse_tcp(payload: &[u8]) -> Option<DnsMessage> {
    let len = usize::from(be16(payload, 0)?);
    let rest = payload.get(2..)?;
    parse_message(rest.get(..len).unwrap_or(rest))
}

/// Name of a response code as DNS tools print it (`NOERROR`, `NXDOMAIN`, ...); codes without a
/// name in RFC 1035/2136/6895 read `RCODE<n>`.
pub fn rcode_name(rcode: u8) -> &'static str {
    const NAMES: [&str; 16] = [
        "NOERROR",
        "FORMERR",
        "SERVFAIL",
        "NXDOMAIN",
        "NOTIMP",
        "REFUSED",
        "YXDOMAIN",
        "YXRRSET",
        "NXRRSET",
        "NOTAUTH",
        "NOTZONE",
        "DSOTYPENI",
        "RCODE12",
        "RCODE13",
        "RCODE14",
        "RCODE15",
    ];
    NAMES
        .get(usize::from(rcode & 0x0f))
        .copied()
        .unwrap_or("RCODE?")
}

/// Shannon entropy (bits per byte) of a name's labels without dots, for tunnel detection.
///
/// Label separators are left out; dots inside labels count as bytes. The root name gives 0.
pub fn name_entropy(name: &DnsName) -> f64 {
    let mut counts = [0u32; 256];
    let mut total = 0u32;
    for (i, &b) in name.as_bytes().iter().enumerate() {
        if !name.is_separator(i)
            && let Some(c) = counts.get_mut(usize::from(b))
        {
            *c += 1;
            total += 1;
        }
    }
    if total == 0 {
        return 0.0;
    }
    let total = f64::from(total);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / total;
            -p * p.log2()
        })
        .sum()
}

/// Parses the header and, as far as they go, the question and answer sections.
fn parse_message(msg: &[u8]) -> Option<DnsMessage> {
    let h = chunk::<HEADER_LEN>(msg, 0)?;
    let [id0, id1, f0, f1, qd0, qd1, an0, an1, ns0, ns1, ar0, ar1] = *h;
    let opcode = (f0 >> 3) & 0x0f;
    let question_count = u16::from_be_bytes([qd0, qd1]);
    let answer_count = u16::from_be_bytes([an0, an1]);
    let ns = u16::from_be_bytes([ns0, ns1]);
    let ar = u16::from_be_bytes([ar0, ar1]);
    if opcode > MAX_OPCODE || (question_count == 0 && answer_count == 0 && ns == 0 && ar == 0) {
        return None;
    }
    let mut m = DnsMessage {
        id: u16::from_be_bytes([id0, id1]),
        response: f0 & 0x80 != 0,
        opcode,
        rcode: f1 & 0x0f,
        truncated: f0 & 0x02 != 0,
        question_count,
        answer_count,
        questions: Vec::new(),
        answers: Vec::new(),
        error: None,
    };
    if let Err(e) = parse_sections(msg, &mut m) {
        m.error = Some(e);
    }
    Some(m)
}

/// Fills `m.questions` and `m.answers`; the error says where it stopped.
fn parse_sections(msg: &[u8], m: &mut DnsMessage) -> Result<(), DnsError> {
    let mut pos = HEADER_LEN;
    // Each question consumes at least five bytes, so this loop is bounded by both the u16 count
    // and the payload length.
    for _ in 0..m.question_count {
        let (name, end) = read_name(msg, pos);
        let keep = m.questions.len() < MAX_QUESTIONS;
        let fields = end.and_then(|e| {
            chunk::<4>(msg, e)
                .ok_or(DnsError::Truncated)
                .map(|f| (e, f))
        });
        match fields {
            Ok((e, f)) => {
                if keep {
                    m.questions.push(DnsQuestion {
                        name,
                        qtype: u16::from_be_bytes([f[0], f[1]]),
                        qclass: u16::from_be_bytes([f[2], f[3]]),
                    });
                }
                pos = e + 4;
            }
            Err(err) => {
                if keep && !name.is_empty() {
                    m.questions.push(DnsQuestion {
                        name,
                        qtype: 0,
                        qclass: 0,
                    });
                }
                return Err(err);
            }
        }
    }
    for _ in 0..usize::from(m.answer_count).min(MAX_ANSWERS) {
        let (name, end) = read_name(msg, pos);
        let e = end?;
        let f = chunk::<10>(msg, e).ok_or(DnsError::Truncated)?;
        let [t0, t1, _c0, _c1, l0, l1, l2, l3, r0, r1] = *f;
        let rtype = u16::from_be_bytes([t0, t1]);
        let rdlen = u16::from_be_bytes([r0, r1]);
        let start = e + 10;
        let rdata = msg
            .get(start..start + usize::from(rdlen))
            .ok_or(DnsError::Truncated)?;
        let mut stop = None;
        let data = match (rtype, rdata.len()) {
            (TYPE_A, 4) => chunk::<4>(rdata, 0).map_or(RData::Other { len: rdlen }, |b| {
                RData::A(Ipv4Addr::from(*b))
            }),
            (TYPE_AAAA, 16) => chunk::<16>(rdata, 0).map_or(RData::Other { len: rdlen }, |b| {
                RData::Aaaa(Ipv6Addr::from(*b))
            }),
            (TYPE_CNAME, _) => {
                // The target may point anywhere earlier in the message, so read it from `msg`;
                // a name running past RDLENGTH is still read (lax) from the whole message.
                let (target, end) = read_name(msg, start);
                stop = end.err();
                RData::Cname(target)
            }
            _ => RData::Other { len: rdlen },
        };
        m.answers.push(DnsAnswer {
            name,
            rtype,
            ttl: u32::from_be_bytes([l0, l1, l2, l3]),
            data,
        });
        if let Some(err) = stop {
            return Err(err);
        }
        pos = start + usize::from(rdlen);
    }
    Ok(())
}

/// Reads the name at `start`. Returns the name (complete, or what parsed before the error,
/// marked truncated) and the offset just after the name in place (after the first pointer).
fn read_name(msg: &[u8], start: usize) -> (DnsName, Result<usize, DnsError>) {
    let mut name = DnsName::root();
    let result = walk_name(msg, start, &mut name);
    if result.is_err() {
        name.truncated = true;
    }
    (name, result)
}

fn walk_name(msg: &[u8], start: usize, name: &mut DnsName) -> Result<usize, DnsError> {
    let mut pos = start;
    // Start of the run of labels being read: a pointer must land strictly before it, or the
    // walk would come back to the same pointer.
    let mut run_start = start;
    let mut end = None;
    let mut jumps = 0usize;
    // Wire length so far, counting the final root byte.
    let mut wire_len = 1usize;
    // Every step either consumes a label (at most MAX_LABELS) or follows a pointer (at most
    // MAX_POINTER_JUMPS), so the walk is bounded.
    for _ in 0..=(MAX_LABELS + MAX_POINTER_JUMPS) {
        let len_byte = u8_at(msg, pos).ok_or(DnsError::Truncated)?;
        match len_byte {
            0xc0..=0xff => {
                let low = u8_at(msg, pos + 1).ok_or(DnsError::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len_byte & 0x3f, low]));
                if target >= pos {
                    return Err(if target == pos {
                        DnsError::PointerLoop
                    } else {
                        DnsError::BadPointer
                    });
                }
                if target >= run_start {
                    return Err(DnsError::PointerLoop);
                }
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(DnsError::PointerLoop);
                }
                end.get_or_insert(pos + 2);
                pos = target;
                run_start = target;
            }
            0..=MAX_LABEL_LEN => {
                let len = usize::from(len_byte);
                if len == 0 {
                    return Ok(end.unwrap_or(pos + 1));
                }
                if name.label_count() >= MAX_LABELS {
                    return Err(DnsError::TooManyLabels);
                }
                wire_len += 1 + len;
                if wire_len > MAX_NAME_LEN {
                    return Err(DnsError::NameTooLong);
                }
                match msg.get(pos + 1..pos + 1 + len) {
                    Some(label) => name.push_label(label),
                    None => {
                        // Keep the captured part of the label.
                        name.push_label(msg.get(pos + 1..).unwrap_or(&[]));
                        return Err(DnsError::Truncated);
                    }
                }
                pos += 1 + len;
            }
            // 64..=191: longer than MAX_LABEL_LEN, or the obsolete extended label types.
            _ => return Err(DnsError::LabelTooLong),
        }
    }
    Err(DnsError::TooManyLabels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(id: u16, flags: u16, qd: u16, an: u16) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [id, flags, qd, an, 0, 0] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    fn push_name(v: &mut Vec<u8>, name: &str) {
        for label in name.split('.').filter(|l| !l.is_empty()) {
            v.push(label.len() as u8);
            v.extend_from_slice(label.as_bytes());
        }
        v.push(0);
    }

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut v = header(0x1234, 0x0100, 1, 0);
        push_name(&mut v, name);
        v.extend_from_slice(&qtype.to_be_bytes());
        v.extend_from_slice(&1u16.to_be_bytes());
        v
    }

    fn rr(v: &mut Vec<u8>, name_ptr: u16, rtype: u16, ttl: u32, rdata: &[u8]) {
        v.extend_from_slice(&(0xc000 | name_ptr).to_be_bytes());
        v.extend_from_slice(&rtype.to_be_bytes());
        v.extend_from_slice(&1u16.to_be_bytes());
        v.extend_from_slice(&ttl.to_be_bytes());
        v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        v.extend_from_slice(rdata);
    }

    /// Response for www.example.com: CNAME → cdn.example.com (compressed), A, AAAA.
    fn response() -> Vec<u8> {
        let mut v = header(0x1234, 0x8180, 1, 3);
        push_name(&mut v, "www.example.com"); // at 12; "example" at 16
        v.extend_from_slice(&[0, 1, 0, 1]);
        // CNAME rdata: "cdn" + pointer to "example.com" at 16.
        let cname_at = v.len() + 12;
        rr(
            &mut v,
            12,
            TYPE_CNAME,
            300,
            &[3, b'c', b'd', b'n', 0xc0, 16],
        );
        rr(&mut v, cname_at as u16, TYPE_A, 60, &[192, 0, 2, 1]);
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = 1;
        rr(&mut v, cname_at as u16, TYPE_AAAA, 60, &v6);
        v
    }

    #[test]
    fn query_a() {
        let m = parse_udp(&query("example.com", TYPE_A)).unwrap();
        assert_eq!(m.id, 0x1234);
        assert!(!m.response);
        assert_eq!(m.opcode, 0);
        assert_eq!(m.error, None);
        assert_eq!(m.questions.len(), 1);
        let q = &m.questions[0];
        assert_eq!(q.name.as_bytes(), b"example.com");
        assert_eq!(q.name.label_count(), 2);
        assert_eq!(q.name.to_string_lossy(), "example.com");
        assert!(!q.name.truncated);
        assert_eq!((q.qtype, q.qclass), (TYPE_A, 1));
        assert!(m.answers.is_empty());
    }

    #[test]
    fn response_with_compression() {
        let m = parse_udp(&response()).unwrap();
        assert!(m.response);
        assert_eq!(m.rcode, 0);
        assert_eq!(m.error, None);
        assert_eq!(m.answer_count, 3);
        assert_eq!(m.answers.len(), 3);
        assert_eq!(m.answers[0].name.as_bytes(), b"www.example.com");
        assert_eq!(m.answers[0].rtype, TYPE_CNAME);
        assert_eq!(m.answers[0].ttl, 300);
        match &m.answers[0].data {
            RData::Cname(n) => assert_eq!(n.as_bytes(), b"cdn.example.com"),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.answers[1].name.as_bytes(), b"cdn.example.com");
        assert_eq!(m.answers[1].data, RData::A(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            m.answers[2].data,
            RData::Aaaa("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn nxdomain() {
        let mut v = query("nope.example", TYPE_A);
        v[2] = 0x81;
        v[3] = 0x83;
        let m = parse_udp(&v).unwrap();
        assert!(m.response);
        assert_eq!(m.rcode, 3);
        assert_eq!(rcode_name(m.rcode), "NXDOMAIN");
        assert_eq!(rcode_name(0), "NOERROR");
        assert_eq!(rcode_name(15), "RCODE15");
        assert_eq!(m.error, None);
    }

    #[test]
    fn tc_bit() {
        let mut v = query("big.example", 16);
        v[2] = 0x83;
        let m = parse_udp(&v).unwrap();
        assert!(m.truncated);
        assert_eq!(m.error, None);
    }

    #[test]
    fn not_dns() {
        assert_eq!(parse_udp(&[0; 11]), None);
        assert_eq!(parse_udp(&header(1, 0, 0, 0)), None);
        assert_eq!(parse_udp(&header(1, 0x7800, 1, 0)), None); // opcode 15
        assert_eq!(parse_tcp(&[0]), None);
    }

    #[test]
    fn pointer_to_itself_is_a_loop() {
        let mut v = header(1, 0x0100, 1, 0);
        v.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let m = parse_udp(&v).unwrap();
        assert_eq!(m.error, Some(DnsError::PointerLoop));
    }

    #[test]
    fn pointer_back_into_same_name_is_a_loop() {
        let mut v = header(1, 0x0100, 1, 0);
        v.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1]);
        let m = parse_udp(&v).unwrap();
        assert_eq!(m.error, Some(DnsError::PointerLoop));
        assert_eq!(m.questions[0].name.as_bytes(), b"a");
        assert!(m.questions[0].name.truncated);
    }

    #[test]
    fn forward_pointer_is_bad() {
        let mut v = header(1, 0x0100, 1, 0);
        v.extend_from_slice(&[1, b'a', 0xc0, 20, 0, 1, 0, 1, 1, b'b', 0]);
        let m = parse_udp(&v).unwrap();
        assert_eq!(m.error, Some(DnsError::BadPointer));
        assert_eq!(m.questions[0].name.as_bytes(), b"a");
    }

    #[test]
    fn label_of_64_bytes() {
        let mut v = header(1, 0x0100, 1, 0);
        v.extend_from_slice(&[3, b'f', b'o', b'o', 64]);
        v.extend_from_slice(&[b'x'; 64]);
        v.extend_from_slice(&[0, 0, 1, 0, 1]);
        let m = parse_udp(&v).unwrap();
        assert_eq!(m.error, Some(DnsError::LabelTooLong));
        assert_eq!(m.questions[0].name.as_bytes(), b"foo");
        assert_eq!(m.questions[0].qtype, 0);
    }

    #[test]
    fn name_of_300_bytes() {
        let mut v = header(1, 0x0100, 1, 0);
        for _ in 0..5 {
            v.push(59);
            v.extend_from_slice(&[b'a'; 59]);
        }
        v.extend_from_slice(&[0, 0, 1, 0, 1]);
        let m = parse_udp(&v).unwrap();
        assert_eq!(m.error, Some(DnsError::NameTooLong));
        let n = &m.questions[0].name;
        assert!(n.truncated);
        assert_eq!(n.label_count(), 4);
        assert_eq!(n.len(), 4 * 59 + 3);
    }

    #[test]
    fn truncation_at_every_byte() {
        let full = response();
        let whole = parse_udp(&full).unwrap();
        for cut in 0..full.len() {
            let Some(m) = parse_udp(&full[..cut]) else {
                assert!(cut < HEADER_LEN);
                continue;
            };
            assert_eq!(m.error, Some(DnsError::Truncated), "cut {cut}");
            assert_eq!(m.id, whole.id);
            assert!(m.answers.len() <= whole.answers.len());
            for (a, b) in m.answers.iter().zip(&whole.answers) {
                assert_eq!(a.name, b.name);
                if a.data != b.data {
                    // Only a CNAME target can be cut short.
                    let RData::Cname(n) = &a.data else {
                        panic!("cut {cut}")
                    };
                    assert!(n.truncated);
                }
            }
            for q in &m.questions {
                assert!(
                    whole.questions[0]
                        .name
                        .as_bytes()
                        .starts_with(q.name.as_bytes())
                );
            }
        }
    }

    #[test]
    fn tcp_length_prefix() {
        let msg = response();
        let mut v = (msg.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(&msg);
        v.extend_from_slice(&[0xde, 0xad]); // start of a second message: ignored
        assert_eq!(parse_tcp(&v), parse_udp(&msg));
        let cut = parse_tcp(&v[..20]).unwrap();
        assert_eq!(cut.error, Some(DnsError::Truncated));
    }

    #[test]
    fn binary_labels_are_escaped() {
        let mut v = header(1, 0x0100, 1, 0);
        v.extend_from_slice(&[5, 0x00, 0x1b, b'.', b'\\', 0xff, 1, b't', 0, 0, 10, 0, 1]);
        let m = parse_udp(&v).unwrap();
        let n = &m.questions[0].name;
        assert_eq!(n.as_bytes(), &[0x00, 0x1b, b'.', b'\\', 0xff, b'.', b't']);
        let s = n.to_string_lossy();
        assert_eq!(s, "\\000\\027\\.\\\\\\255.t");
        assert!(!s.chars().any(|c| c.is_control()));
        assert_eq!(DnsName::root().to_string_lossy(), ".");
        let spaced = DnsName::from_labels([&b"a b"[..], b"c"]);
        assert_eq!(spaced.to_string_lossy(), "a\\032b.c");
    }

    #[test]
    fn entropy_separates_tunnels() {
        let plain = DnsName::from_labels([&b"aaaa"[..], b"example", b"com"]);
        let tunnel = DnsName::from_labels([
            &b"mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwiylt"[..],
            b"example",
            b"com",
        ]);
        assert!(name_entropy(&plain) < name_entropy(&tunnel));
        assert_eq!(name_entropy(&DnsName::root()), 0.0);
    }

    #[test]
    fn answers_are_capped() {
        let mut v = header(1, 0x8180, 1, 40);
        push_name(&mut v, "x.example");
        v.extend_from_slice(&[0, 1, 0, 1]);
        for i in 0..40u8 {
            rr(&mut v, 12, TYPE_A, 1, &[10, 0, 0, i]);
        }
        let m = parse_udp(&v).unwrap();
        assert_eq!(m.error, None);
        assert_eq!(m.answers.len(), MAX_ANSWERS);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Some(m) = parse_udp(&data) {
                prop_assert!(m.questions.len() <= MAX_QUESTIONS);
                prop_assert!(m.answers.len() <= MAX_ANSWERS);
                for q in &m.questions {
                    prop_assert!(!q.name.to_string_lossy().chars().any(|c| c.is_control()));
                    let _ = name_entropy(&q.name);
                }
            }
            let _ = parse_tcp(&data);
        }

        #[test]
        fn valid_header_random_body_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut v = header(7, 0x8180, 2, 5);
            v.extend_from_slice(&body);
            let m = parse_udp(&v).unwrap();
            prop_assert_eq!(m.id, 7);
        }
    }
}
