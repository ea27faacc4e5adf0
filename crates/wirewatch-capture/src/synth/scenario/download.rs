//! The Spike phase's big download: one HTTPS connection from [`SPIKE_CLIENT`] to
//! [`SPIKE_SERVER`], from handshake to FIN, with full-size data segments and delayed ACKs.
//!
//! Owns the connection's TCP script and sequence numbers; the attack window decides when each
//! step runs and queues the ACKs.

use super::wire::{Ip4, MSS, jitter, lan_delay, tcp_frame, wan_rtt};
use super::{SPIKE_CLIENT, SPIKE_SERVER, SPIKE_SERVER_PORT};
use crate::synth::build::{
    TcpOptions, TcpSegment,
    tcp_flags::{ACK, FIN, PSH, SYN},
};
use crate::synth::payload::Payload;
use crate::synth::rng::Rng;

/// TCP payload of a full-size segment: 1,514-byte frame − 14 Ethernet − 20 IPv4 − 20 TCP − 12
/// timestamps option.
const DATA_LEN: usize = 1448;
/// Bytes of the client's request (a TLS record carrying an HTTP/2 GET).
const REQUEST_LEN: usize = 240;
/// TLS application-data record header; the last two bytes (the length) are set per segment.
const TLS_HEADER: [u8; 5] = [0x17, 0x03, 0x03, 0, 0];
/// Receive windows after the handshake (scaled by 2^7): the client's grows for the download.
const CLIENT_WINDOW: u16 = 3044;
const SERVER_WINDOW: u16 = 501;

/// Steps of the script, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Syn,
    SynAck,
    Ack,
    Request,
    Data,
    Fin,
    FinAck,
    LastAck,
    Done,
}

/// What a step leaves to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct After {
    /// When the next step is due (None: the connection is closed).
    pub next: Option<u64>,
    /// An ACK the client owes: when, and the acknowledgement number.
    pub ack: Option<(u64, u32)>,
}

/// The connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Download {
    step: Step,
    cport: u16,
    /// Next sequence number of each side.
    c_seq: u32,
    s_seq: u32,
    /// TCP timestamp clock offsets.
    c_ts: u32,
    s_ts: u32,
    c_id: u16,
    s_id: u16,
    segments: u64,
}

impl Download {
    /// A connection not yet opened, with fresh ports, sequence numbers and clocks.
    pub fn new(rng: &mut Rng) -> Self {
        Download {
            step: Step::Syn,
            cport: rng.range(32_768, 60_999) as u16,
            c_seq: rng.next_u32(),
            s_seq: rng.next_u32(),
            c_ts: rng.next_u32(),
            s_ts: rng.next_u32(),
            c_id: rng.next_u32() as u16,
            s_id: rng.next_u32() as u16,
            segments: 0,
        }
    }

    /// Writes the script's step due at `ts` into `buf`. Data segments come at `rate` a second
    /// until `stop`; then the server closes.
    pub fn step(
        &mut self,
        rng: &mut Rng,
        ts: u64,
        rate: f64,
        stop: u64,
        buf: &mut Vec<u8>,
    ) -> After {
        let (c, s) = self.tsvals(ts);
        let (from_client, flags, options, len, next) = match self.step {
            Step::Syn => (
                true,
                SYN,
                TcpOptions::syn(MSS, c, 0),
                0,
                (Step::SynAck, wan_rtt(rng)),
            ),
            Step::SynAck => (
                false,
                SYN | ACK,
                TcpOptions::syn(MSS, s, c),
                0,
                (Step::Ack, lan_delay(rng)),
            ),
            Step::Ack => (
                true,
                ACK,
                TcpOptions::timestamps(c, s),
                0,
                (Step::Request, rng.range(50_000, 200_000)),
            ),
            Step::Request => (
                true,
                ACK | PSH,
                TcpOptions::timestamps(c, s),
                REQUEST_LEN,
                (Step::Data, wan_rtt(rng)),
            ),
            Step::Data => {
                let gap = jitter(rng, rate, 0.5, 1.5);
                // The server closes at `stop` at the latest, however slow the rate.
                let (step, gap) = if ts + gap < stop {
                    (Step::Data, gap)
                } else {
                    (Step::Fin, stop.saturating_sub(ts))
                };
                // PSH marks the end of each 16-segment write.
                let psh = if self.segments % 16 == 15 { PSH } else { 0 };
                (
                    false,
                    ACK | psh,
                    TcpOptions::timestamps(s, c),
                    DATA_LEN,
                    (step, gap),
                )
            }
            Step::Fin => (
                false,
                FIN | ACK,
                TcpOptions::timestamps(s, c),
                0,
                (Step::FinAck, lan_delay(rng)),
            ),
            Step::FinAck => (
                true,
                FIN | ACK,
                TcpOptions::timestamps(c, s),
                0,
                (Step::LastAck, wan_rtt(rng)),
            ),
            Step::LastAck | Step::Done => {
                (false, ACK, TcpOptions::timestamps(s, c), 0, (Step::Done, 0))
            }
        };
        let mut head = TLS_HEADER;
        let record = len.saturating_sub(TLS_HEADER.len()) as u16;
        head[3..5].copy_from_slice(&record.to_be_bytes());
        let payload = if len == 0 {
            Payload::Bytes(&[])
        } else {
            Payload::Filled {
                head: &head,
                fill: len - head.len(),
                tail: &[],
                seed: rng.next_u32(),
            }
        };
        let advance = len as u32 + u32::from(flags & (SYN | FIN) != 0);
        let seg = TcpSegment {
            seq: if from_client { self.c_seq } else { self.s_seq },
            ack: match (flags == SYN, from_client) {
                (true, _) => 0,
                (false, true) => self.s_seq,
                (false, false) => self.c_seq,
            },
            flags,
            window: match (flags & SYN != 0, from_client) {
                (true, true) => 64240,
                (true, false) => 65160,
                (false, true) => CLIENT_WINDOW,
                (false, false) => SERVER_WINDOW,
            },
            options,
            payload,
            ..TcpSegment::default()
        };
        if from_client {
            self.c_seq = self.c_seq.wrapping_add(advance);
        } else {
            self.s_seq = self.s_seq.wrapping_add(advance);
        }
        self.write(buf, from_client, seg);
        let mut ack = None;
        if self.step == Step::Data {
            self.segments += 1;
            if self.segments.is_multiple_of(2) {
                // Delayed ACK: the client acknowledges every second segment.
                ack = Some((ts + lan_delay(rng), self.s_seq));
            }
        }
        let was_last = matches!(self.step, Step::LastAck | Step::Done);
        self.step = next.0;
        After {
            next: (!was_last).then_some(ts + next.1),
            ack,
        }
    }

    /// Writes the client's ACK of everything up to `ack`, sent at `ts`.
    pub fn ack(&mut self, ts: u64, ack: u32, buf: &mut Vec<u8>) {
        let (c, s) = self.tsvals(ts);
        let seg = TcpSegment {
            seq: self.c_seq,
            ack,
            flags: ACK,
            window: CLIENT_WINDOW,
            options: TcpOptions::timestamps(c, s),
            ..TcpSegment::default()
        };
        self.write(buf, true, seg);
    }

    /// The client's and the server's TCP timestamp values at `ts` (millisecond clocks).
    fn tsvals(&self, ts: u64) -> (u32, u32) {
        let ms = (ts / 1_000_000) as u32;
        (self.c_ts.wrapping_add(ms), self.s_ts.wrapping_add(ms))
    }

    /// Fills in ports and the IP header of `seg` and writes the frame.
    fn write(&mut self, buf: &mut Vec<u8>, from_client: bool, mut seg: TcpSegment<'_>) {
        let ip = if from_client {
            self.c_id = self.c_id.wrapping_add(1);
            (seg.src_port, seg.dst_port) = (self.cport, SPIKE_SERVER_PORT);
            Ip4 {
                src: SPIKE_CLIENT,
                dst: SPIKE_SERVER,
                ttl: 64,
                id: self.c_id,
                df: true,
            }
        } else {
            self.s_id = self.s_id.wrapping_add(1);
            (seg.src_port, seg.dst_port) = (SPIKE_SERVER_PORT, self.cport);
            Ip4 {
                src: SPIKE_SERVER,
                dst: SPIKE_CLIENT,
                // A few hops from a Linux server's 64.
                ttl: 52,
                id: self.s_id,
                df: true,
            }
        };
        tcp_frame(buf, ip, seg);
    }
}
