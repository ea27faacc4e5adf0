//! Initial packet protection (RFC 9001 §5, RFC 9369 §3.3): key derivation from the client's
//! Destination Connection ID, header protection removal and AEAD opening.
//!
//! Initial keys are public by design (anyone who sees the first packet can derive them), so
//! nothing here is secret; the point of decrypting is to read the ClientHello. Every offset is
//! bounds-checked: a packet too short for the sample, the packet number or the tag fails
//! cleanly.

use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;

use super::{VERSION_1, VERSION_2, VERSION_DRAFT_29};

/// AES-128 key length (packet protection and header protection keys).
pub(super) const KEY_LEN: usize = 16;
/// AEAD nonce (IV) length for AES-128-GCM.
pub(super) const IV_LEN: usize = 12;
/// AEAD tag length for AES-128-GCM; every protected payload ends with one.
pub(super) const TAG_LEN: usize = 16;
/// Header protection sample length (one AES block).
pub(super) const SAMPLE_LEN: usize = 16;
/// The sample starts this many bytes after the start of the packet number field, as if the
/// packet number were 4 bytes long (RFC 9001 §5.4.2).
pub(super) const SAMPLE_OFFSET: usize = 4;
/// Length of a SHA-256 secret.
const SECRET_LEN: usize = 32;
/// Prefix of every TLS 1.3 HKDF label (RFC 8446 §7.1).
const LABEL_PREFIX: &[u8] = b"tls13 ";

/// RFC 9001 §5.2 initial salt for QUIC version 1.
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// RFC 9369 §3.3.1 initial salt for QUIC version 2.
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];

/// draft-ietf-quic-tls-29 §5.2 initial salt, used by the widely deployed draft 29 (`h3-29`).
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];

/// Salt and key labels of one QUIC version.
struct VersionParams {
    salt: &'static [u8; 20],
    key: &'static [u8],
    iv: &'static [u8],
    hp: &'static [u8],
}

/// The parameters of a version whose Initial packets can be decrypted.
fn params(version: u32) -> Option<VersionParams> {
    match version {
        VERSION_1 => Some(VersionParams {
            salt: &SALT_V1,
            key: b"quic key",
            iv: b"quic iv",
            hp: b"quic hp",
        }),
        VERSION_DRAFT_29 => Some(VersionParams {
            salt: &SALT_DRAFT_29,
            key: b"quic key",
            iv: b"quic iv",
            hp: b"quic hp",
        }),
        VERSION_2 => Some(VersionParams {
            salt: &SALT_V2,
            key: b"quicv2 key",
            iv: b"quicv2 iv",
            hp: b"quicv2 hp",
        }),
        _ => None,
    }
}

/// Whether Initial packets of `version` can be decrypted.
pub(super) fn is_supported(version: u32) -> bool {
    params(version).is_some()
}

/// Client Initial keys of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InitialKeys {
    /// AEAD key.
    pub(super) key: [u8; KEY_LEN],
    /// AEAD IV, XORed with the packet number to make the nonce.
    pub(super) iv: [u8; IV_LEN],
    /// Header protection key.
    pub(super) hp: [u8; KEY_LEN],
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, filling `out`.
fn expand_label(prk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
    let out_len = u16::try_from(out.len()).ok()?;
    let label_len = u8::try_from(LABEL_PREFIX.len().checked_add(label.len())?).ok()?;
    // struct HkdfLabel { uint16 length; opaque label<7..255>; opaque context<0..255>; }
    prk.expand_multi_info(
        &[
            &out_len.to_be_bytes(),
            &[label_len],
            LABEL_PREFIX,
            label,
            &[0],
        ],
        out,
    )
    .ok()
}

/// The client's `client_initial_secret` for `version` and the client's original Destination
/// Connection ID (RFC 9001 §5.2).
pub(super) fn client_secret(version: u32, dcid: &[u8]) -> Option<[u8; SECRET_LEN]> {
    let p = params(version)?;
    let (_, initial) = Hkdf::<Sha256>::extract(Some(p.salt), dcid);
    let mut secret = [0u8; SECRET_LEN];
    expand_label(&initial, b"client in", &mut secret)?;
    Some(secret)
}

/// The client Initial keys for `version` and the original Destination Connection ID; `None`
/// for versions whose Initial protection is not known.
pub(super) fn client_keys(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
    let p = params(version)?;
    let secret = client_secret(version, dcid)?;
    let prk = Hkdf::<Sha256>::from_prk(&secret).ok()?;
    let mut keys = InitialKeys {
        key: [0; KEY_LEN],
        iv: [0; IV_LEN],
        hp: [0; KEY_LEN],
    };
    expand_label(&prk, p.key, &mut keys.key)?;
    expand_label(&prk, p.iv, &mut keys.iv)?;
    expand_label(&prk, p.hp, &mut keys.hp)?;
    Some(keys)
}

/// The header protection mask for `sample` (AES-128-ECB of the sample, RFC 9001 §5.4.3).
pub(super) fn hp_mask(hp: &[u8; KEY_LEN], sample: &[u8; SAMPLE_LEN]) -> [u8; SAMPLE_LEN] {
    let cipher = Aes128::new(&(*hp).into());
    let mut block = aes::Block::from(*sample);
    cipher.encrypt_block(&mut block);
    block.into()
}

/// The AEAD nonce: the IV XORed with the packet number, left-padded to the IV length.
pub(super) fn nonce(iv: &[u8; IV_LEN], pn: u64) -> [u8; IV_LEN] {
    let mut out = *iv;
    let pn = pn.to_be_bytes();
    if let Some(tail) = out.last_chunk_mut::<8>() {
        for (o, p) in tail.iter_mut().zip(pn) {
            *o ^= p;
        }
    }
    out
}

/// AES-128-GCM for tests that build protected packets.
#[cfg(test)]
pub(super) fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; IV_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    let aead = Aes128Gcm::new(&(*key).into());
    match aead.encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into()) {
        Ok(tag) => tag.into(),
        Err(_) => [0; TAG_LEN],
    }
}

/// Removes the protection of one client Initial packet.
///
/// `packet` is the whole packet as delimited by its Length field (header included) and
/// `pn_offset` the offset of its packet number field. On success `out` holds the plaintext
/// payload (frames only, no header, no tag) and the function returns true; on any failure
/// (too short, wrong keys, altered bytes) it returns false and `out` holds nothing useful.
///
/// The packet number is taken as sent (truncated): a client's first Initial packets are numbered
/// from 0, well inside the range a 1-byte encoding covers, so no reconstruction against a
/// largest acknowledged number is needed.
pub(super) fn open_initial(
    keys: &InitialKeys,
    packet: &[u8],
    pn_offset: usize,
    out: &mut Vec<u8>,
) -> bool {
    open(keys, packet, pn_offset, out).is_some()
}

fn open(keys: &InitialKeys, packet: &[u8], pn_offset: usize, out: &mut Vec<u8>) -> Option<()> {
    let sample_at = pn_offset.checked_add(SAMPLE_OFFSET)?;
    let sample = packet.get(sample_at..)?.first_chunk::<SAMPLE_LEN>()?;
    let mask = hp_mask(&keys.hp, sample);
    let [mask0, mask_pn @ ..] = mask;
    let first = packet.first()? ^ (mask0 & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    let header_len = pn_offset.checked_add(pn_len)?;
    if packet.len() < header_len.checked_add(TAG_LEN)? {
        return None;
    }
    out.clear();
    out.extend_from_slice(packet);
    *out.first_mut()? = first;
    let mut pn = 0u64;
    for (b, m) in out.get_mut(pn_offset..header_len)?.iter_mut().zip(mask_pn) {
        *b ^= m;
        pn = (pn << 8) | u64::from(*b);
    }
    let (header, rest) = out.split_at_mut(header_len);
    let ct_len = rest.len().checked_sub(TAG_LEN)?;
    let (ct, tag) = rest.split_at_mut(ct_len);
    let tag = *tag.first_chunk::<TAG_LEN>()?;
    let aead = Aes128Gcm::new(&keys.key.into());
    aead.decrypt_inout_detached(
        &Nonce::from(nonce(&keys.iv, pn)),
        header,
        ct.into(),
        &Tag::from(tag),
    )
    .ok()?;
    out.truncate(header_len.checked_add(ct_len)?);
    out.drain(..header_len);
    Some(())
}
