//! TCP header decoding.
//!
//! Owns the fixed 20-byte TCP header, the walk over its options and the TCP payload accounting.
//! It does not track connections (that is the flow table's job) and never reads the payload.

use crate::packet::{DecodeErrorKind, Packet, TcpInfo, TcpOptions, Transport};
use crate::read::{be16_of, be32_of, chunk, fail, to_u32};

/// Length of the fixed TCP header (data offset 5).
pub(crate) const MIN_HEADER: usize = 20;

/// Upper bound of the option bytes (data offset 15 → 60-byte header); also bounds the option
/// walk, since every step consumes at least one byte.
const MAX_OPTION_BYTES: usize = 40;

const OPT_EOL: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
const OPT_WINDOW_SCALE: u8 = 3;
const OPT_SACK_PERMITTED: u8 = 4;
const OPT_TIMESTAMP: u8 = 8;

/// Decodes the TCP header at `off` (see [`crate::transport::decode`] for the arguments).
///
/// The transport is set only when the 20 fixed bytes are captured. A data offset below 5 keeps
/// the fixed fields and reports [`DecodeErrorKind::BadTcpHeader`] with no payload; options cut
/// short by the capture keep what parsed and report [`DecodeErrorKind::TruncatedTcp`].
#[inline]
pub(crate) fn decode(p: &mut Packet, data: &[u8], off: usize, ip_payload: u32) {
    let Some(h) = chunk::<MIN_HEADER>(data, off) else {
        fail(p, DecodeErrorKind::TruncatedTcp);
        return;
    };
    let header_len = usize::from(h[12] >> 4) * 4;
    let mut info = TcpInfo {
        src_port: be16_of(h[0], h[1]),
        dst_port: be16_of(h[2], h[3]),
        seq: be32_of(h[4], h[5], h[6], h[7]),
        ack: be32_of(h[8], h[9], h[10], h[11]),
        flags: h[13],
        window: be16_of(h[14], h[15]),
        // At most 15 * 4 = 60.
        header_len: (h[12] >> 4) * 4,
        options: TcpOptions::default(),
    };
    let fixed_end = off.saturating_add(MIN_HEADER);
    if header_len < MIN_HEADER {
        p.transport = Transport::Tcp(info);
        p.payload_offset = to_u32(fixed_end);
        p.payload_len = 0;
        fail(p, DecodeErrorKind::BadTcpHeader);
        return;
    }
    let header_end = off.saturating_add(header_len);
    let captured_end = header_end.min(data.len());
    if let Some(opts) = data.get(fixed_end..captured_end) {
        info.options = parse_options(opts);
    }
    p.transport = Transport::Tcp(info);
    p.payload_offset = to_u32(header_end);
    p.payload_len = ip_payload.saturating_sub(to_u32(header_len));
    if header_end > data.len() {
        fail(p, DecodeErrorKind::TruncatedTcp);
    }
}

/// Walks the option bytes, keeping the common options. A malformed length ends the walk
/// quietly: options are a bonus, not a reason to distrust the header.
#[inline]
fn parse_options(mut opts: &[u8]) -> TcpOptions {
    let mut o = TcpOptions::default();
    for _ in 0..MAX_OPTION_BYTES {
        match *opts {
            [] | [OPT_EOL, ..] => break,
            [OPT_NOP, ref rest @ ..] => opts = rest,
            [kind, len, ref rest @ ..] => {
                let Some(body_len) = usize::from(len).checked_sub(2) else {
                    break;
                };
                let (Some(body), Some(next)) = (rest.get(..body_len), rest.get(body_len..)) else {
                    break;
                };
                match (kind, body) {
                    (OPT_MSS, &[a, b]) => o.mss = Some(be16_of(a, b)),
                    (OPT_WINDOW_SCALE, &[shift]) => o.window_scale = Some(shift),
                    (OPT_SACK_PERMITTED, []) => o.sack_permitted = true,
                    (OPT_TIMESTAMP, &[a, b, c, d, e, f, g, h]) => {
                        o.timestamp = Some((be32_of(a, b, c, d), be32_of(e, f, g, h)));
                    }
                    _ => {}
                }
                opts = next;
            }
            [_] => break,
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::parse_options;
    use crate::testutil::*;
    use crate::*;
    use wirewatch_core::proto::tcp_flags;
    use wirewatch_core::{LinkType, ProtoClass};

    /// MSS 1460, SACK permitted, timestamps 0x01020304/0x05060708, NOP, window scale 7.
    const SYN_OPTIONS: [u8; 20] = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7,
    ];

    #[test]
    fn tcp_with_options() {
        let seg = tcp(40000, 443, tcp_flags::SYN, &SYN_OPTIONS, b"");
        let frame = eth(0x0800, &ipv4(6, &seg));
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.error, None);
        assert_eq!(p.class, ProtoClass::Tcp);
        assert_eq!(
            p.transport,
            Transport::Tcp(TcpInfo {
                src_port: 40000,
                dst_port: 443,
                seq: 0x1000_0001,
                ack: 0x2000_0002,
                flags: tcp_flags::SYN,
                window: 64240,
                header_len: 40,
                options: TcpOptions {
                    mss: Some(1460),
                    window_scale: Some(7),
                    sack_permitted: true,
                    timestamp: Some((0x0102_0304, 0x0506_0708)),
                },
            })
        );
        assert_eq!(p.payload_offset, 14 + 20 + 40);
        assert_eq!(p.payload_len, 0);
    }

    #[test]
    fn every_flag_bit_is_kept() {
        for bit in 0..8 {
            let flags = 1u8 << bit;
            let p = decode(LinkType::IPV4, &ipv4(6, &tcp(1, 2, flags, &[], b"x")));
            assert_eq!(p.tcp_flags(), Some(flags));
        }
        let all = 0xff;
        let p = decode(LinkType::IPV4, &ipv4(6, &tcp(1, 2, all, &[], b"")));
        assert_eq!(p.tcp_flags(), Some(all));
    }

    #[test]
    fn payload_excludes_ethernet_padding() {
        // A bare ACK is 54 bytes; the frame is padded to the 60-byte Ethernet minimum.
        let mut frame = eth(0x0800, &ipv4(6, &tcp(80, 5555, tcp_flags::ACK, &[], b"")));
        frame.extend_from_slice(&[0; 6]);
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.error, None);
        assert_eq!(p.ip_len, 40);
        assert_eq!(p.payload_len, 0);
        assert_eq!(p.payload(&frame), b"");
    }

    #[test]
    fn payload_is_the_announced_length() {
        let frame = eth(
            0x0800,
            &ipv4(6, &tcp(80, 5555, tcp_flags::PSH, &[], &[7; 100])),
        );
        // Snaplen cut in the middle of the payload: not an error, length as announced.
        let p = decode(LinkType::ETHERNET, &frame[..80]);
        assert_eq!(p.error, None);
        assert_eq!(p.payload_len, 100);
        assert_eq!(p.payload(&frame[..80]).len(), 80 - 54);
    }

    #[test]
    fn bogus_data_offset() {
        for doff in 0..5u8 {
            let mut seg = tcp(1234, 80, tcp_flags::SYN, &[], b"data");
            seg[12] = doff << 4;
            let p = decode(LinkType::IPV4, &ipv4(6, &seg));
            assert_eq!(p.error, Some(DecodeErrorKind::BadTcpHeader));
            assert_eq!(p.class, ProtoClass::Tcp);
            let Transport::Tcp(t) = p.transport else {
                panic!("{p:?}")
            };
            assert_eq!(
                (t.src_port, t.dst_port, t.flags),
                (1234, 80, tcp_flags::SYN)
            );
            assert_eq!(t.seq, 0x1000_0001);
            assert_eq!(t.header_len, doff * 4);
            assert_eq!(p.payload_len, 0);
        }
    }

    #[test]
    fn truncated_fixed_header_sets_no_transport() {
        let dgram = ipv4(6, &tcp(1, 2, tcp_flags::SYN, &[], b""));
        for cut in 20..40 {
            let p = decode(LinkType::IPV4, &dgram[..cut]);
            assert_eq!(p.error, Some(DecodeErrorKind::TruncatedTcp), "cut {cut}");
            assert_eq!(p.transport, Transport::None);
            assert_eq!(p.class, ProtoClass::Tcp);
            assert_eq!(p.ip_proto, 6);
            assert_eq!(p.dst, V4_DST);
        }
    }

    #[test]
    fn truncated_options_keep_the_header() {
        let dgram = ipv4(6, &tcp(1, 2, tcp_flags::SYN, &SYN_OPTIONS, b""));
        // Cut after MSS and SACK-permitted, inside the timestamp option.
        let p = decode(LinkType::IPV4, &dgram[..20 + 20 + 9]);
        assert_eq!(p.error, Some(DecodeErrorKind::TruncatedTcp));
        let Transport::Tcp(t) = p.transport else {
            panic!("{p:?}")
        };
        assert_eq!(t.header_len, 40);
        assert_eq!(t.options.mss, Some(1460));
        assert!(t.options.sack_permitted);
        assert_eq!(t.options.timestamp, None);
        assert_eq!(p.payload_offset, 60);
        assert_eq!(p.payload_len, 0);
    }

    #[test]
    fn options_walk() {
        assert_eq!(parse_options(&[]), TcpOptions::default());
        // EOL stops the walk even with a valid option after it.
        assert_eq!(parse_options(&[0, 2, 4, 5, 0xb4]), TcpOptions::default());
        // A length below 2 or past the end stops quietly, keeping what came before.
        let o = parse_options(&[3, 3, 2, 5, 1]);
        assert_eq!(o.window_scale, Some(2));
        assert_eq!(o.mss, None);
        let o = parse_options(&[1, 1, 4, 2, 9, 0]);
        assert!(o.sack_permitted);
        // Wrong lengths for known kinds are skipped; unknown kinds are skipped.
        let o = parse_options(&[2, 3, 0, 30, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(o, TcpOptions::default());
        let o = parse_options(&[30, 4, 0, 0, 2, 4, 1, 0]);
        assert_eq!(o.mss, Some(256));
        // A lone kind byte at the end.
        assert_eq!(parse_options(&[2]), TcpOptions::default());
        // 40 NOPs are within the bound.
        assert_eq!(parse_options(&[1; 40]), TcpOptions::default());
    }

    #[test]
    fn tcp_over_ipv6() {
        let frame = eth(
            0x86dd,
            &ipv6(6, &tcp(22, 50000, tcp_flags::ACK, &[], b"ssh")),
        );
        let p = decode(LinkType::ETHERNET, &frame);
        assert_eq!(p.error, None);
        assert_eq!(p.ports(), Some((22, 50000)));
        assert_eq!(p.payload_offset, 14 + 40 + 20);
        assert_eq!(p.payload_len, 3);
    }
}
