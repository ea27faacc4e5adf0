//! SSH: the identification banner each side sends first (`SSH-2.0-OpenSSH_9.2p1 Debian-2`).
//!
//! The banner names the software on both ends, which is what an administrator wants to see
//! (and what exposes outdated servers). Only the first line of a stream is examined, bounded by
//! RFC 4253's 255-byte limit; the text is attacker-controlled and kept escaped.

/// Longest banner line examined (RFC 4253 §4.2: at most 255 bytes including CR LF).
pub const MAX_BANNER_LEN: usize = 255;

/// A parsed identification banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshBanner {
    /// Protocol version: `2.0`, or `1.99` for servers that also speak version 1.
    pub proto_version: String,
    /// Software and version, e.g. `OpenSSH_9.2p1` (escaped).
    pub software: String,
    /// The optional comment after a space, e.g. `Debian-2` (escaped).
    pub comment: Option<String>,
}

/// Parses the banner at the start of an SSH stream; `None` when the payload does not start with
/// one. A banner cut before its line end still counts once the software name has begun.
pub fn parse_banner(payload: &[u8]) -> Option<SshBanner> {
    let line = payload.get(..payload.len().min(MAX_BANNER_LEN))?;
    let rest = line.strip_prefix(b"SSH-")?;
    let end = rest
        .iter()
        .position(|b| *b == b'\r' || *b == b'\n')
        .unwrap_or(rest.len());
    let rest = rest.get(..end)?;
    let dash = rest.iter().position(|b| *b == b'-')?;
    let (version, tail) = rest.split_at(dash);
    if version.is_empty() || !version.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return None;
    }
    let tail = tail.get(1..).unwrap_or(&[]);
    if tail.is_empty() {
        return None;
    }
    let (software, comment) = match tail.iter().position(|b| *b == b' ') {
        Some(i) => (tail.get(..i)?, tail.get(i + 1..)),
        None => (tail, None),
    };
    Some(SshBanner {
        proto_version: super::escape_bytes(version),
        software: super::escape_bytes(software),
        comment: comment.filter(|c| !c.is_empty()).map(super::escape_bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn openssh_banner() {
        let b = parse_banner(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n").unwrap();
        assert_eq!(b.proto_version, "2.0");
        assert_eq!(b.software, "OpenSSH_9.2p1");
        assert_eq!(b.comment.as_deref(), Some("Debian-2+deb12u3"));
    }

    #[test]
    fn old_servers_and_cut_banners() {
        let b = parse_banner(b"SSH-1.99-Cisco-1.25\n").unwrap();
        assert_eq!(
            (b.proto_version.as_str(), b.software.as_str()),
            ("1.99", "Cisco-1.25")
        );
        let cut = parse_banner(b"SSH-2.0-dropbear_2022").unwrap();
        assert_eq!(cut.software, "dropbear_2022");
        assert!(parse_banner(b"SSH-2.0-").is_none());
        assert!(parse_banner(b"SSH-x.y-foo\r\n").is_none());
        assert!(parse_banner(b"GET / HTTP/1.1\r\n").is_none());
        assert!(parse_banner(b"").is_none());
    }

    #[test]
    fn hostile_banners_are_escaped() {
        let b = parse_banner(b"SSH-2.0-evil\x1b[2J \x00x\\").unwrap();
        assert_eq!(b.software, "evil\\x1b[2J");
        assert_eq!(b.comment.as_deref(), Some("\\x00x\\x5c"));
    }

    proptest! {
        #[test]
        fn random_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_banner(&data);
            let mut prefixed = b"SSH-2.0-".to_vec();
            prefixed.extend(&data);
            let _ = parse_banner(&prefixed);
        }
    }
}
