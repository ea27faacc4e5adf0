//! Application-layer decoders: pure, bounded, lax parsers of transport payloads (one file per
//! protocol). Names they return come from the network and are attacker-controlled: callers
//! must escape them before showing them anywhere.

pub mod dns;
pub mod fuzz;
pub mod http;
pub mod ja4;
pub mod quic;
pub mod ssh;
pub mod tls;

use std::fmt;

/// Writes attacker-controlled bytes as text safe to show anywhere: printable ASCII is kept,
/// every other byte (and the backslash itself) becomes `\xNN`, so no control character can
/// reach a terminal, a log or a page.
pub fn write_escaped(out: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.write_char(char::from(b))?;
        } else {
            write!(out, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

/// [`write_escaped`] into a new string.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    // Writing to a String cannot fail.
    let _ = write_escaped(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_keeps_printable_ascii_only() {
        assert_eq!(super::escape_bytes(b"a.b-C_9"), "a.b-C_9");
        assert_eq!(
            super::escape_bytes(b"\x1b[31m\0\\\xff"),
            "\\x1b[31m\\x00\\x5c\\xff"
        );
    }
}
