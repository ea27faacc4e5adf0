//! The JA4 fingerprint of a TLS or QUIC ClientHello (FoxIO's JA4 specification).
//!
//! `JA4 = a_b_c`: `a` is readable (transport, version, SNI or not, cipher and extension
//! counts, first and last character of the first ALPN); `b` is the first 12 hex digits of the
//! SHA-256 of the cipher suites, sorted, as 4-digit lowercase hex joined by commas; `c` is the
//! same hash of the extension types, sorted, without SNI (`0000`) and ALPN (`0010`), followed
//! by `_` and the signature algorithms in the order offered (no `_` when there are none).
//! GREASE values (RFC 8701) are ignored everywhere, and a list with nothing in it hashes to
//! `000000000000`.
//!
//! Pure and allocation-free: the lists are sorted in fixed arrays and hashed as they are
//! written. A hashed section is computed only from a list captured whole; a hello cut inside
//! its cipher list or extensions has no `b` or `c` (a hash of part of a list would name a
//! client that does not exist).

use super::tls::{ClientHello, MAX_CIPHERS, MAX_EXTENSIONS, TlsName, is_grease};
use crate::read::Cursor;
use sha2::{Digest, Sha256};

/// Length of the JA4_a section (`t13d1516h2`).
pub const JA4_A_LEN: usize = 10;
/// Length of a hashed section (JA4_b, JA4_c): 12 hex digits.
pub const JA4_HASH_LEN: usize = 12;
/// Signature algorithms hashed into JA4_c. Real clients offer fewer than 30; a longer list is
/// not fingerprinted.
const MAX_SIG_ALGS: usize = 128;

const EXT_SERVER_NAME: u16 = 0;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_ALPN: u16 = 16;

/// Lowercase hex digits, as JA4 writes every value.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A hashed JA4 section: 12 lowercase hex digits.
pub type Ja4Hash = [u8; JA4_HASH_LEN];

/// The hash JA4 writes for an empty list.
const EMPTY_HASH: Ja4Hash = *b"000000000000";

/// Builds JA4_a from what parsed (`sni_seen`: the hello carried a server_name extension).
pub(crate) fn section_a(hello: &ClientHello, sni_seen: bool) -> [u8; JA4_A_LEN] {
    let version: &[u8; 2] = match hello.max_version() {
        0x0304 => b"13",
        0x0303 => b"12",
        0x0302 => b"11",
        0x0301 => b"10",
        0x0300 => b"s3",
        0x0002 => b"s2",
        0xfeff => b"d1",
        0xfefd => b"d2",
        0xfefc => b"d3",
        _ => b"00",
    };
    let [c1, c2] = two_digits(hello.cipher_count);
    let [e1, e2] = two_digits(hello.extension_count);
    let [a1, a2] = alpn_chars(hello.alpn.first().and_then(Option::as_ref));
    [
        b't',
        version[0],
        version[1],
        if sni_seen { b'd' } else { b'i' },
        c1,
        c2,
        e1,
        e2,
        a1,
        a2,
    ]
}

/// `n` as two decimal digits, capped at 99 as JA4 specifies.
fn two_digits(n: u16) -> [u8; 2] {
    let n = n.min(99);
    // Both quotients are below 10, so the casts cannot truncate.
    [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]
}

/// JA4's ALPN characters: first and last character of the first protocol, `00` without ALPN,
/// and the first and last hex digit of the protocol when either end is not alphanumeric.
fn alpn_chars(first: Option<&TlsName>) -> [u8; 2] {
    let bytes = first.map(TlsName::as_bytes).unwrap_or(&[]);
    match (bytes.first(), bytes.last()) {
        (Some(&a), Some(&b)) if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => [a, b],
        (Some(&a), Some(&b)) => [HEX[usize::from(a >> 4)], HEX[usize::from(b & 0x0f)]],
        _ => *b"00",
    }
}

/// JA4_b from a whole cipher-suite list (2 bytes each). `None` when the list holds more than
/// [`MAX_CIPHERS`] suites.
pub(crate) fn section_b(ciphers: &[u8]) -> Option<Ja4Hash> {
    let mut kept = [0u16; MAX_CIPHERS];
    let n = collect(ciphers, &mut kept)?;
    let kept = &mut kept[..n];
    kept.sort_unstable();
    if kept.is_empty() {
        return Some(EMPTY_HASH);
    }
    let mut h = Sha256::new();
    write_list(&mut h, kept);
    Some(finish(h))
}

/// JA4_c from a whole extension block (`None` when the hello had none at all). `None` when the
/// block is malformed or longer than [`MAX_EXTENSIONS`] extensions or [`MAX_SIG_ALGS`]
/// signature algorithms.
pub(crate) fn section_c(exts: Option<&[u8]>) -> Option<Ja4Hash> {
    let Some(exts) = exts else {
        return Some(EMPTY_HASH);
    };
    let mut types = [0u16; MAX_EXTENSIONS];
    let mut n_types = 0;
    let mut sig_body: &[u8] = &[];
    let mut r = Cursor::new(exts);
    while !r.at_end() {
        let ty = r.u16()?;
        let body = whole16(&mut r)?;
        if is_grease(ty) || ty == EXT_SERVER_NAME || ty == EXT_ALPN {
            continue;
        }
        *types.get_mut(n_types)? = ty;
        n_types += 1;
        if ty == EXT_SIGNATURE_ALGORITHMS {
            sig_body = body;
        }
    }
    let types = &mut types[..n_types];
    types.sort_unstable();
    let mut sigs = [0u16; MAX_SIG_ALGS];
    let n_sigs = if sig_body.is_empty() {
        0
    } else {
        collect(whole16(&mut Cursor::new(sig_body))?, &mut sigs)?
    };
    if types.is_empty() {
        return Some(EMPTY_HASH);
    }
    let mut h = Sha256::new();
    write_list(&mut h, types);
    if n_sigs > 0 {
        h.update(b"_");
        write_list(&mut h, &sigs[..n_sigs]);
    }
    Some(finish(h))
}

/// A vector with a 16-bit length, captured whole.
fn whole16<'a>(r: &mut Cursor<'a>) -> Option<&'a [u8]> {
    match r.vec16_lax()? {
        (body, false) => Some(body),
        (_, true) => None,
    }
}

/// Copies the non-GREASE 16-bit values of `list` into `out`; returns how many, or `None` when
/// they do not fit or `list` has an odd length.
fn collect(list: &[u8], out: &mut [u16]) -> Option<usize> {
    if !list.len().is_multiple_of(2) {
        return None;
    }
    let mut n = 0;
    for pair in list.chunks_exact(2) {
        let v = u16::from_be_bytes([*pair.first()?, *pair.get(1)?]);
        if is_grease(v) {
            continue;
        }
        *out.get_mut(n)? = v;
        n += 1;
    }
    Some(n)
}

/// Feeds `values` as 4-digit lowercase hex joined by commas.
fn write_list(h: &mut Sha256, values: &[u16]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            h.update(b",");
        }
        h.update(hex4(*v));
    }
}

fn hex4(v: u16) -> [u8; 4] {
    let d = |shift: u16| HEX[usize::from((v >> shift) & 0xf)];
    [d(12), d(8), d(4), d(0)]
}

/// The first 12 hex digits of the digest.
fn finish(h: Sha256) -> Ja4Hash {
    let digest = h.finalize();
    let mut out = [0u8; JA4_HASH_LEN];
    for (i, byte) in digest.iter().take(JA4_HASH_LEN / 2).enumerate() {
        out[2 * i] = HEX[usize::from(byte >> 4)];
        out[2 * i + 1] = HEX[usize::from(byte & 0xf)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(values: &[u16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
        let mut out = ty.to_be_bytes().to_vec();
        out.extend((body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn text(h: Ja4Hash) -> String {
        String::from_utf8(h.to_vec()).unwrap()
    }

    /// The cipher and extension lists of the specification's worked example (a Chrome hello,
    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`), offered in the client's own order with GREASE,
    /// SNI and ALPN in it: sorting and filtering must give the published hashes.
    #[test]
    fn the_specifications_example() {
        let ciphers = be(&[
            0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
            0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ]);
        assert_eq!(text(section_b(&ciphers).unwrap()), "8daaf6152771");
        let sigs = be(&[
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ]);
        let mut sig_body = (sigs.len() as u16).to_be_bytes().to_vec();
        sig_body.extend(&sigs);
        let mut exts = Vec::new();
        for ty in [
            0x0a0a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
            0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ] {
            let body = if ty == EXT_SIGNATURE_ALGORITHMS {
                sig_body.clone()
            } else {
                vec![1, 2]
            };
            exts.extend(ext(ty, &body));
        }
        assert_eq!(text(section_c(Some(&exts)).unwrap()), "e5627efa2ab1");
    }

    #[test]
    fn empty_lists_hash_to_zeros() {
        assert_eq!(section_b(&[]), Some(EMPTY_HASH));
        assert_eq!(section_b(&be(&[0x0a0a])), Some(EMPTY_HASH));
        assert_eq!(section_c(None), Some(EMPTY_HASH));
        // Only SNI and ALPN: nothing left to hash.
        let exts = [ext(0, &[0, 0]), ext(16, &[0, 0])].concat();
        assert_eq!(section_c(Some(&exts)), Some(EMPTY_HASH));
    }

    /// Without signature algorithms the string has no `_`: sha256("000a,000b").
    #[test]
    fn no_signature_algorithms_no_underscore() {
        let exts = [ext(0x000b, &[1, 0]), ext(0x000a, &[0, 2, 0, 29])].concat();
        let mut h = Sha256::new();
        h.update(b"000a,000b");
        assert_eq!(section_c(Some(&exts)), Some(finish(h)));
    }

    #[test]
    fn malformed_or_oversized_lists_have_no_hash() {
        assert_eq!(section_b(&[0x13]), None);
        let many = be(&(0..=MAX_CIPHERS as u16).collect::<Vec<_>>());
        assert_eq!(section_b(&many), None);
        // An extension whose length runs past the block.
        assert_eq!(section_c(Some(&[0, 5, 0, 9, 1])), None);
        let many: Vec<u8> = (1..=MAX_EXTENSIONS as u16 + 1)
            .flat_map(|t| ext(t + 0x100, &[]))
            .collect();
        assert_eq!(section_c(Some(&many)), None);
    }
}
