//! One synthetic conversation and its script: a TCP connection (handshake, request/response
//! rounds, FIN or RST close, refused or unanswered), a DNS lookup, or a ping.
//!
//! Owns the per-flow state machine and turns each step into a frame with the builders. A flow is
//! a few dozen bytes, so the generator can keep a thousand of them live; it never allocates.

mod tcp;

use super::build::{Body, Echo, FrameSpec, IpPacket, Transport, UdpDatagram, VlanTag};
use super::payload::{DNS_RCODE_NXDOMAIN, DNS_TYPE_A, DNS_TYPE_AAAA, DnsMessage, Payload};
use super::pools::{Pools, Role};
use super::rng::Rng;
use std::net::IpAddr;

/// VLAN tag stacks a flow can use; index 0 is untagged.
static VLAN_STACKS: [&[VlanTag]; 6] = [
    &[],
    &[VlanTag::dot1q(10)],
    &[VlanTag::dot1q(20)],
    &[VlanTag::dot1q(30)],
    &[VlanTag::dot1ad(100), VlanTag::dot1q(10)],
    &[VlanTag::dot1ad(200), VlanTag::dot1q(42)],
];

/// Names looked up over DNS and used as HTTP hosts.
static NAMES: [&str; 24] = [
    "www.example.com",
    "example.com",
    "api.example.net",
    "cdn.example.org",
    "static.example.com",
    "login.example.net",
    "mail.example.org",
    "img1.cdn.example.org",
    "img2.cdn.example.org",
    "updates.example.com",
    "telemetry.example.net",
    "video.example.com",
    "news.example.org",
    "shop.example.com",
    "docs.example.net",
    "git.example.org",
    "chat.example.com",
    "maps.example.net",
    "ntp.example.org",
    "files.example.com",
    "search.example.net",
    "ads.example.org",
    "auth.example.com",
    "metrics.example.net",
];

/// Paths of HTTP requests.
static PATHS: [&str; 8] = [
    "/",
    "/index.html",
    "/api/v1/items",
    "/static/app.js",
    "/images/logo.png",
    "/search?q=wirewatch",
    "/login",
    "/feed.xml",
];

/// TTL of packets from remote hosts as seen on the LAN (a few hops from common initial TTLs).
static REMOTE_TTLS: [u8; 6] = [52, 56, 57, 117, 119, 245];

/// Echo payload of Linux `ping`: an 8-byte timestamp slot, then bytes 0x10..0x37.
static PING_DATA: [u8; 56] = {
    let mut d = [0u8; 56];
    let mut i = 8;
    while i < 56 {
        d[i] = i as u8 + 8;
        i += 1;
    }
    d
};

/// What a flow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TCP closed with FIN from both sides.
    TcpFin,
    /// TCP aborted with RST after some data.
    TcpRst,
    /// TCP SYN answered by RST (port closed).
    TcpRefused,
    /// TCP SYN never answered (sent one to three times).
    TcpNoAnswer,
    /// DNS query and response over UDP.
    Dns,
    /// DNS query never answered (retransmitted once).
    DnsNoAnswer,
    /// ICMP/ICMPv6 echo requests and replies.
    Echo,
}

impl Kind {
    /// The IP protocol of the flow (IPv6 echo is ICMPv6).
    pub fn proto(self, v6: bool) -> u8 {
        match self {
            Kind::Dns | Kind::DnsNoAnswer => 17,
            Kind::Echo if v6 => 58,
            Kind::Echo => 1,
            _ => 6,
        }
    }
}

/// The application a TCP flow speaks, chosen by its server port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum App {
    /// TLS application-data records, one per segment (443).
    Tls,
    /// HTTP/1.1 requests and responses with a correct Content-Length (80).
    Http,
    /// Opaque bytes on a port without a common protocol.
    Opaque,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Syn,
    RefuseRst,
    SynAck,
    HsAck,
    Request,
    Response,
    Fin1,
    Fin2,
    LastAck,
    Abort,
    Done,
}

/// Everything a flow needs from the generator while it emits a frame.
#[derive(Debug)]
pub struct Ctx {
    /// The generator's random numbers.
    pub rng: Rng,
    /// The address plan and distinct-address counts.
    pub pools: Pools,
    /// Packet time in milliseconds (for TCP timestamps).
    pub ms: u32,
    /// Scratch space for application headers (reused, never shrunk).
    pub head: Vec<u8>,
}

/// What the generator needs to know about an emitted frame for its summary.
#[derive(Debug, Clone, Copy)]
pub struct Emitted {
    /// Pool id of the source address.
    pub src: u32,
    /// Pool id of the destination address.
    pub dst: u32,
    /// IP protocol.
    pub proto: u8,
    /// TCP flags (0 for other protocols).
    pub tcp_flags: u8,
}

/// One live flow.
#[derive(Debug, Clone)]
pub struct Flow {
    /// What the flow is.
    pub kind: Kind,
    app: App,
    phase: Phase,
    /// Index into the VLAN stacks (0: untagged).
    pub vlan: u8,
    /// Whether the flow is IPv6.
    pub v6: bool,
    /// Whether the flow has put a frame on the wire yet.
    pub seen: bool,
    /// Packets the flow still plans to send (a guide; closes may run over).
    pub budget: u32,
    client: u32,
    server: u32,
    cport: u16,
    sport: u16,
    c_seq: u32,
    s_seq: u32,
    c_ts: u32,
    s_ts: u32,
    ip_id: u16,
    mss: u16,
    resp_left: u32,
    unacked: u8,
    first_resp: bool,
    req_ack: bool,
    client_closes: bool,
    /// Kind-specific counter: SYNs or DNS messages sent, echo steps.
    step: u16,
    /// SYNs an unanswered connection sends.
    tries: u8,
    /// DNS transaction id, name index and type; echo identifier is the client port.
    name: u8,
    txid: u16,
    aaaa: bool,
}

impl Flow {
    /// A new flow of `kind` with a planned length of about `budget` packets.
    pub fn new(ctx: &mut Ctx, kind: Kind, v6: bool, vlan: u8, budget: u32) -> Flow {
        let rng = &mut ctx.rng;
        let pools = &mut ctx.pools;
        let pick = rng.skewed(u64::from(pools.len(Role::Client, v6)));
        let (client, cport) = pools.alloc_port(pools.id(Role::Client, v6, pick));
        let (server, sport, app) = match kind {
            Kind::Dns | Kind::DnsNoAnswer => {
                let r = rng.below(2);
                (pools.id(Role::Resolver, v6, r), 53, App::Opaque)
            }
            _ => {
                let s = rng.skewed(u64::from(pools.len(Role::Server, v6)));
                let (port, app) = match rng.below(100) {
                    0..=59 => (443, App::Tls),
                    60..=89 => (80, App::Http),
                    _ => ([8000, 8443, 9000, 5201][rng.below(4) as usize], App::Opaque),
                };
                (pools.id(Role::Server, v6, s), port, app)
            }
        };
        let hdrs = 14 + 4 * VLAN_STACKS[usize::from(vlan)].len() + if v6 { 40 } else { 20 } + 32;
        let tries = 1 + rng.below(3) as u8;
        let budget = match kind {
            Kind::Echo => budget.clamp(1, 20),
            Kind::Dns | Kind::DnsNoAnswer | Kind::TcpRefused => 2,
            Kind::TcpNoAnswer => u32::from(tries),
            Kind::TcpFin | Kind::TcpRst => budget.max(9),
        };
        Flow {
            kind,
            app,
            phase: Phase::Syn,
            vlan,
            v6,
            seen: false,
            budget,
            client,
            server,
            cport,
            sport,
            c_seq: rng.next_u32(),
            s_seq: rng.next_u32(),
            c_ts: rng.next_u32(),
            s_ts: rng.next_u32(),
            ip_id: rng.next_u32() as u16,
            mss: (1514 - hdrs) as u16,
            resp_left: 0,
            unacked: 0,
            first_resp: false,
            req_ack: false,
            client_closes: rng.chance(700),
            step: 0,
            tries,
            name: rng.skewed(NAMES.len() as u64) as u8,
            txid: rng.next_u32() as u16,
            aaaa: v6 || rng.chance(250),
        }
    }

    /// Whether the flow has nothing more to send.
    pub fn done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether frames of this flow carry VLAN tags.
    pub fn tagged(&self) -> bool {
        self.vlan != 0
    }

    /// Appends the flow's next frame to `out` and advances the script.
    pub fn emit(&mut self, ctx: &mut Ctx, out: &mut Vec<u8>) -> Emitted {
        self.seen = true;
        self.budget = self.budget.saturating_sub(1);
        match self.kind {
            Kind::Dns | Kind::DnsNoAnswer => self.dns_step(ctx, out),
            Kind::Echo => self.echo_step(ctx, out),
            _ => self.tcp_step(ctx, out),
        }
    }

    fn frame(
        &mut self,
        pools: &Pools,
        from_client: bool,
        transport: Transport<'_>,
        out: &mut Vec<u8>,
    ) -> Emitted {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let ttl = match (from_client, self.kind) {
            (true, _) | (false, Kind::Dns | Kind::DnsNoAnswer) => 64,
            (false, _) => REMOTE_TTLS[self.server as usize % REMOTE_TTLS.len()],
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        let tcp_flags = match transport {
            Transport::Tcp(t) => t.flags,
            _ => 0,
        };
        let proto = self.kind.proto(self.v6);
        let spec = FrameSpec {
            dst_mac: pools.mac(dst),
            src_mac: pools.mac(src),
            vlans: VLAN_STACKS[usize::from(self.vlan)],
            pad: true,
            body: Body::Ip(IpPacket {
                src: pools.addr(src),
                dst: pools.addr(dst),
                ttl,
                id: u32::from(self.ip_id),
                flow_label: if self.v6 {
                    u32::from(self.cport) << 4
                } else {
                    0
                },
                transport,
                ..IpPacket::default()
            }),
        };
        spec.build(out);
        Emitted {
            src,
            dst,
            proto,
            tcp_flags,
        }
    }

    fn echo_step(&mut self, ctx: &mut Ctx, out: &mut Vec<u8>) -> Emitted {
        let reply = self.step % 2 == 1;
        let echo = Echo {
            reply,
            ident: self.cport,
            seq: self.step / 2 + 1,
            payload: Payload::Bytes(&PING_DATA),
        };
        self.step += 1;
        if self.budget == 0 {
            self.phase = Phase::Done;
        }
        self.frame(&ctx.pools, !reply, Transport::Echo(echo), out)
    }

    fn dns_step(&mut self, ctx: &mut Ctx, out: &mut Vec<u8>) -> Emitted {
        let name = NAMES[usize::from(self.name)];
        let qtype = if self.aaaa { DNS_TYPE_AAAA } else { DNS_TYPE_A };
        let query = self.step == 0 || self.kind == Kind::DnsNoAnswer;
        let mut answers = [IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED); 3];
        let mut count = 0;
        let mut rcode = 0;
        if !query {
            if ctx.rng.chance(50) {
                rcode = DNS_RCODE_NXDOMAIN;
            } else {
                count = 1 + ctx.rng.below(3) as usize;
                for (i, a) in answers.iter_mut().take(count).enumerate() {
                    let index = u64::from(self.name) * 7 + i as u64;
                    *a = ctx.pools.addr(ctx.pools.id(Role::Server, self.aaaa, index));
                }
            }
        }
        self.step += 1;
        if self.step >= 2 {
            self.phase = Phase::Done;
        }
        let msg = DnsMessage {
            id: self.txid,
            response: !query,
            recursion_desired: true,
            rcode,
            name,
            qtype,
            answers: &answers[..count],
            ttl: 300,
        };
        let (src_port, dst_port) = if query {
            (self.cport, self.sport)
        } else {
            (self.sport, self.cport)
        };
        let udp = UdpDatagram {
            src_port,
            dst_port,
            payload: Payload::Dns(msg),
        };
        self.frame(&ctx.pools, query, Transport::Udp(udp), out)
    }
}
