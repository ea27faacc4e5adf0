//! The TCP script of a flow: handshake, request/response rounds with delayed ACKs, FIN or RST
//! close (or a refused / unanswered SYN), and the application bytes of each segment (TLS records,
//! HTTP/1.1 with an exact Content-Length, or opaque filler).

use super::{App, Ctx, Emitted, Flow, Kind, NAMES, PATHS, Phase};
use crate::synth::build::{
    TcpOptions, TcpSegment, Transport,
    tcp_flags::{ACK, FIN, PSH, RST, SYN},
};
use crate::synth::payload::Payload;
use crate::synth::rng::Rng;
use std::io::Write;

/// A planned TCP segment before it gets its application bytes.
struct Seg {
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    syn_opts: bool,
    /// Payload bytes (0 for control segments).
    len: u32,
    /// Whether the payload opens an HTTP response.
    resp_head: bool,
}

impl Flow {
    pub(super) fn tcp_step(&mut self, ctx: &mut Ctx, out: &mut Vec<u8>) -> Emitted {
        let seg = self.tcp_plan(&mut ctx.rng);
        let (c, s) = (
            self.c_ts.wrapping_add(ctx.ms),
            self.s_ts.wrapping_add(ctx.ms),
        );
        let (tsval, tsecr) = if seg.from_client { (c, s) } else { (s, c) };
        let options = if seg.syn_opts {
            let mss = if self.v6 { 1440 } else { 1460 };
            TcpOptions::syn(mss, tsval, if seg.flags & ACK != 0 { tsecr } else { 0 })
        } else if seg.flags & RST != 0 {
            TcpOptions::default()
        } else {
            TcpOptions::timestamps(tsval, tsecr)
        };
        let window = match (seg.syn_opts, seg.from_client) {
            (true, true) => 64240,
            (true, false) => 65160,
            (false, true) => 502,
            (false, false) => 501,
        };
        let seed = ctx.rng.next_u32();
        let mut tls_hdr = [0x17, 0x03, 0x03, 0, 0];
        let payload = self.app_payload(&mut ctx.head, &seg, seed, &mut tls_hdr);
        let seg_spec = TcpSegment {
            src_port: if seg.from_client {
                self.cport
            } else {
                self.sport
            },
            dst_port: if seg.from_client {
                self.sport
            } else {
                self.cport
            },
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window,
            urgent: 0,
            options,
            payload,
        };
        self.frame(&ctx.pools, seg.from_client, Transport::Tcp(seg_spec), out)
    }

    /// The application bytes of a segment; HTTP heads are formatted into `head`.
    fn app_payload<'a>(
        &self,
        head: &'a mut Vec<u8>,
        seg: &Seg,
        seed: u32,
        tls_hdr: &'a mut [u8; 5],
    ) -> Payload<'a> {
        let len = seg.len as usize;
        if len == 0 {
            return Payload::Bytes(&[]);
        }
        match self.app {
            // Every planned segment has room for the record header; the guard keeps the
            // sequence numbers right even if a future plan does not.
            App::Tls if len > TLS_RECORD_HEADER => {
                let body = len - TLS_RECORD_HEADER;
                tls_hdr[3..5].copy_from_slice(&(body as u16).to_be_bytes());
                Payload::Filled {
                    head: &tls_hdr[..],
                    fill: body,
                    tail: &[],
                    seed,
                }
            }
            App::Http if seg.from_client => {
                head.clear();
                let _ = write!(
                    head,
                    "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: wirewatch-synth/0.1\r\n\
                     Accept: */*\r\nCookie: s=",
                    PATHS[seed as usize % PATHS.len()],
                    NAMES[usize::from(self.name)],
                );
                // Requests are planned at 180+ bytes; the longest head is 119.
                debug_assert!(head.len() + 4 <= len);
                let fill = len.saturating_sub(head.len() + 4);
                Payload::Filled {
                    head: &head[..],
                    fill,
                    tail: b"\r\n\r\n",
                    seed,
                }
            }
            App::Http if seg.resp_head => {
                head.clear();
                let total = len + self.resp_left as usize;
                let body = len_minus_head(total, HTTP_RESP_HEAD_BASE);
                let _ = write!(head, "{HTTP_RESP_HEAD_PREFIX}{body}\r\n\r\n");
                Payload::Filled {
                    head: &head[..],
                    fill: len.saturating_sub(head.len()),
                    tail: &[],
                    seed,
                }
            }
            App::Tls | App::Http | App::Opaque => Payload::Filled {
                head: &[],
                fill: len,
                tail: &[],
                seed,
            },
        }
    }
}

/// Length of a TLS record header (type, version, length).
const TLS_RECORD_HEADER: usize = 5;
/// Start of an HTTP response head; the Content-Length value and a blank line follow.
const HTTP_RESP_HEAD_PREFIX: &str = concat!(
    "HTTP/1.1 200 OK\r\n",
    "Server: synth\r\n",
    "Content-Type: application/octet-stream\r\n",
    "Content-Length: ",
);
/// Bytes of an HTTP response head apart from the Content-Length digits.
const HTTP_RESP_HEAD_BASE: usize = HTTP_RESP_HEAD_PREFIX.len() + 4;
/// Smallest HTTP response, so its head always fits in the first segment.
const HTTP_RESP_MIN: u32 = 200;

/// Decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// The largest body length `n` with `head_base + digits(n) + n <= total`: exactly `total` when
/// possible, one less otherwise (e.g. total 1003 with base 0 gives 999, as 999 + 3 = 1002).
fn len_minus_head(total: usize, head_base: usize) -> usize {
    let rest = total.saturating_sub(head_base);
    let mut body = rest.saturating_sub(digits(rest));
    if digits(body) + body > rest {
        body = body.saturating_sub(1);
    }
    while digits(body + 1) + body < rest {
        body += 1;
    }
    body
}

impl Flow {
    fn tcp_plan(&mut self, rng: &mut Rng) -> Seg {
        let client = |flags, seq, ack| Seg {
            from_client: true,
            flags,
            seq,
            ack,
            syn_opts: false,
            len: 0,
            resp_head: false,
        };
        let server = |flags, seq, ack| Seg {
            from_client: false,
            ..client(flags, seq, ack)
        };
        if self.phase == Phase::Request && self.budget < 5 {
            self.phase = if self.kind == Kind::TcpRst {
                Phase::Abort
            } else {
                Phase::Fin1
            };
        }
        match self.phase {
            Phase::Syn => {
                let seg = Seg {
                    syn_opts: true,
                    ..client(SYN, self.c_seq, 0)
                };
                self.step += 1;
                self.phase = match self.kind {
                    Kind::TcpNoAnswer if self.step >= u16::from(self.tries) => Phase::Done,
                    Kind::TcpNoAnswer => Phase::Syn,
                    Kind::TcpRefused => Phase::RefuseRst,
                    _ => Phase::SynAck,
                };
                if self.phase != Phase::Syn {
                    self.c_seq = self.c_seq.wrapping_add(1);
                }
                seg
            }
            Phase::RefuseRst => {
                self.phase = Phase::Done;
                server(RST | ACK, 0, self.c_seq)
            }
            Phase::SynAck => {
                let seg = Seg {
                    syn_opts: true,
                    ..server(SYN | ACK, self.s_seq, self.c_seq)
                };
                self.s_seq = self.s_seq.wrapping_add(1);
                self.phase = Phase::HsAck;
                seg
            }
            Phase::HsAck => {
                self.phase = Phase::Request;
                client(ACK, self.c_seq, self.s_seq)
            }
            Phase::Request => {
                let len = match self.app {
                    App::Http => rng.range(180, 600) as u32,
                    _ => rng.range(40, 700) as u32,
                };
                let seg = Seg {
                    len,
                    ..client(PSH | ACK, self.c_seq, self.s_seq)
                };
                self.c_seq = self.c_seq.wrapping_add(len);
                // Response segments: most responses fit in one, some take a few, a few are bulk
                // transfers; k segments and about k/2 ACKs must leave room for the close.
                let room = u64::from(self.budget.saturating_sub(3)) * 2 / 3;
                let k = match rng.below(100) {
                    0..=54 => 1,
                    55..=84 => rng.range(2, 4),
                    _ => rng.range(5, 32),
                }
                .min(room.max(1)) as u32;
                let mss = u32::from(self.mss);
                let last = if k == 1 {
                    mss / 16 + rng.skewed(u64::from(mss - mss / 16)) as u32
                } else {
                    rng.range(u64::from(mss / 8), u64::from(mss)) as u32
                };
                let mut total = (k - 1) * mss + last;
                if self.app == App::Http {
                    // Make head + body add up exactly so Content-Length matches the bytes sent.
                    let total_len = (total.max(HTTP_RESP_MIN)) as usize;
                    let body = len_minus_head(total_len, HTTP_RESP_HEAD_BASE);
                    total = (HTTP_RESP_HEAD_BASE + digits(body) + body) as u32;
                }
                self.resp_left = total;
                self.first_resp = true;
                self.unacked = 0;
                // A slow server acknowledges the request before its response is ready.
                self.req_ack = rng.chance(300);
                self.phase = Phase::Response;
                seg
            }
            Phase::Response => {
                if self.req_ack {
                    self.req_ack = false;
                    return server(ACK, self.s_seq, self.c_seq);
                }
                if self.unacked >= 2 || (self.resp_left == 0 && self.unacked > 0) {
                    self.unacked = 0;
                    if self.resp_left == 0 {
                        self.phase = Phase::Request;
                    }
                    return client(ACK, self.c_seq, self.s_seq);
                }
                let len = self.resp_left.min(u32::from(self.mss));
                self.resp_left -= len;
                let last = self.resp_left == 0;
                let seg = Seg {
                    len,
                    resp_head: self.first_resp,
                    ..server(if last { PSH | ACK } else { ACK }, self.s_seq, self.c_seq)
                };
                self.first_resp = false;
                self.s_seq = self.s_seq.wrapping_add(len);
                self.unacked += 1;
                seg
            }
            Phase::Fin1 => {
                self.phase = Phase::Fin2;
                self.close_seg(self.client_closes, FIN | ACK)
            }
            Phase::Fin2 => {
                self.phase = Phase::LastAck;
                self.close_seg(!self.client_closes, FIN | ACK)
            }
            Phase::LastAck => {
                self.phase = Phase::Done;
                self.close_seg(self.client_closes, ACK)
            }
            Phase::Abort => {
                self.phase = Phase::Done;
                self.close_seg(self.client_closes, RST | ACK)
            }
            Phase::Done => client(RST, self.c_seq, 0),
        }
    }

    /// A close segment from the client or the server; FIN consumes a sequence number.
    fn close_seg(&mut self, from_client: bool, flags: u8) -> Seg {
        let (seq, ack) = if from_client {
            (self.c_seq, self.s_seq)
        } else {
            (self.s_seq, self.c_seq)
        };
        if flags & FIN != 0 {
            if from_client {
                self.c_seq = self.c_seq.wrapping_add(1);
            } else {
                self.s_seq = self.s_seq.wrapping_add(1);
            }
        }
        Seg {
            from_client,
            flags,
            seq,
            ack,
            syn_opts: false,
            len: 0,
            resp_head: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_length_solves_the_head_equation() {
        for total in 0..5000 {
            let body = len_minus_head(total, 10);
            let digits = body.to_string().len();
            if total >= 12 {
                assert!(10 + digits + body <= total, "total {total}");
                assert!(10 + digits + body + 1 >= total, "total {total}");
            }
        }
        assert_eq!(len_minus_head(1003, 0), 999);
        assert_eq!(len_minus_head(1004, 0), 1000);
    }
}
