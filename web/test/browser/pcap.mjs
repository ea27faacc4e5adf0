// Writes small pcap files for the browser tests: DNS exchanges whose names are hostile markup,
// optionally HTTP exchanges and TLS handshakes (whole TCP connections) after them, and TCP
// connections whose handshake RTT and retransmissions are known by construction.
import { writeFileSync } from 'node:fs';

function checksum(buf) {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (buf.length % 2) sum += buf[buf.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function dnsMessage(id, name, answer) {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l, 'latin1')]));
  const qname = Buffer.concat([...labels, Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(answer ? 0x8180 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer ? 1 : 0, 6);
  const parts = [header, qname, Buffer.from([0, 1, 0, 1])];
  if (answer) parts.push(Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...answer]));
  return Buffer.concat(parts);
}

/** An Ethernet frame with an IPv4 packet of protocol `proto` carrying `transport`. */
function ipv4Frame(src, dst, proto, transport) {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + transport.length, 2);
  ip[8] = 64;
  ip[9] = proto;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  return Buffer.concat([eth, ip, transport]);
}

function udpFrame(src, dst, sport, dport, payload) {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return ipv4Frame(src, dst, 17, Buffer.concat([udp, payload]));
}

const SYN = 0x02;
const FIN = 0x01;
const PSH = 0x08;
const ACK = 0x10;

function tcpFrame(src, dst, sport, dport, seq, ack, flags, payload) {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  const segment = Buffer.concat([tcp, payload]);
  const pseudo = Buffer.alloc(12);
  Buffer.from(src).copy(pseudo, 0);
  Buffer.from(dst).copy(pseudo, 4);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(segment.length, 10);
  segment.writeUInt16BE(checksum(Buffer.concat([pseudo, segment])), 16);
  return ipv4Frame(src, dst, 6, segment);
}

/** A whole TCP connection's frames: handshake, one request and its response, FIN both ways. */
function tcpSession(client, server, sport, dport, request, response) {
  const c = 1000;
  const s = 50000;
  const rq = request.length;
  const rs = response.length;
  const none = Buffer.alloc(0);
  return [
    tcpFrame(client, server, sport, dport, c, 0, SYN, none),
    tcpFrame(server, client, dport, sport, s, c + 1, SYN | ACK, none),
    tcpFrame(client, server, sport, dport, c + 1, s + 1, ACK, none),
    tcpFrame(client, server, sport, dport, c + 1, s + 1, PSH | ACK, request),
    tcpFrame(server, client, dport, sport, s + 1, c + 1 + rq, PSH | ACK, response),
    tcpFrame(client, server, sport, dport, c + 1 + rq, s + 1 + rs, FIN | ACK, none),
    tcpFrame(server, client, dport, sport, s + 1 + rs, c + 2 + rq, FIN | ACK, none),
    tcpFrame(client, server, sport, dport, c + 2 + rq, s + 2 + rs, ACK, none),
  ];
}

const u16 = (n) => [(n >> 8) & 0xff, n & 0xff];

function tlsExtension(type, body) {
  return Buffer.concat([Buffer.from([...u16(type), ...u16(body.length)]), body]);
}

/** A TLS handshake record holding one message of type `type`. */
function tlsHandshake(type, body) {
  const msg = Buffer.concat([Buffer.from([type, 0, ...u16(body.length)]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, ...u16(msg.length)]), msg]);
}

/** A TLS 1.3 client hello for `sni` offering ALPN h2, and the server's hello. */
function tlsHellos(sni) {
  const name = Buffer.from(sni, 'latin1');
  const entry = Buffer.concat([Buffer.from([0, ...u16(name.length)]), name]);
  const exts = Buffer.concat([
    tlsExtension(0, Buffer.concat([Buffer.from(u16(entry.length)), entry])),
    tlsExtension(16, Buffer.from([0, 3, 2, 0x68, 0x32])),
    tlsExtension(43, Buffer.from([2, 0x03, 0x04])),
  ]);
  const ch = Buffer.concat([
    Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7),
    Buffer.from([0, 0, 4, 0x13, 0x01, 0x13, 0x02, 1, 0, ...u16(exts.length)]), exts,
  ]);
  const sexts = tlsExtension(43, Buffer.from([0x03, 0x04]));
  const sh = Buffer.concat([
    Buffer.from([0x03, 0x03]), Buffer.alloc(32, 9),
    Buffer.from([0, 0x13, 0x01, 0, ...u16(sexts.length)]), sexts,
  ]);
  return [tlsHandshake(1, ch), tlsHandshake(2, sh)];
}

function httpExchange({ method = 'GET', host, uri = '/', status = '200 OK' }) {
  const request = `${method} ${uri} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: wirewatch-browser-test\r\n\r\n`;
  const response = `HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`;
  return [Buffer.from(request, 'latin1'), Buffer.from(response, 'latin1')];
}

/**
 * Writes `path`: DNS queries and answers for `names` (one exchange per name, 0.1 s apart, the
 * answer for name i is `servers[i]` or else 198.51.100.(10+i)), then UDP datagrams to those
 * addresses; then, 6 s in, one TCP connection per entry of `http` (`{method, host, uri,
 * status}`: a request and its response, to 203.0.113.80:80) and of `tls` (a server name: a
 * client and a server hello, to 203.0.113.43:443), 0.1 s apart.
 */
export function writeDnsPcap(path, names, startSecs = 1700000000, servers = null, { http = [], tls = [] } = {}) {
  const serverOf = (i) => (servers && servers[i]) || [198, 51, 100, 10 + i];
  const records = [];
  const client = [10, 77, 0, 1];
  const resolver = [10, 77, 0, 53];
  let t = 0;
  names.forEach((name, i) => {
    const server = serverOf(i);
    const q = udpFrame(client, resolver, 40000 + i, 53, dnsMessage(100 + i, name, null));
    const a = udpFrame(resolver, client, 53, 40000 + i, dnsMessage(100 + i, name, server));
    for (const frame of [q, a]) {
      records.push({ us: startSecs * 1e6 + t * 100000, frame });
      t += 1;
    }
  });
  // Then traffic to the resolved addresses, 2 s and 4 s later: the interval holding the first
  // round closes when the second arrives, so the named servers show among its talkers.
  for (const round of [2, 4]) {
    names.forEach((_, i) => {
      const frame = udpFrame(client, serverOf(i), 41000 + i, 443, Buffer.alloc(32, 0x17));
      records.push({ us: (startSecs + round) * 1e6 + i * 1000, frame });
    });
  }
  // Each connection from its own client port.
  const sessions = [
    ...http.map((h, i) => tcpSession(client, [203, 0, 113, 80], 42000 + i, 80, ...httpExchange(h))),
    ...tls.map((sni, i) => tcpSession(client, [203, 0, 113, 43], 43000 + i, 443, ...tlsHellos(sni))),
  ];
  sessions.forEach((frames, i) => {
    frames.forEach((frame, j) => {
      records.push({ us: (startSecs + 6) * 1e6 + i * 100000 + j * 1000, frame });
    });
  });
  writePcap(path, records);
}

/** Writes a microsecond pcap of `records` ([{ us: microseconds since the epoch, frame }]). */
function writePcap(path, records) {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const out = [header];
  for (const { us, frame } of records) {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(us / 1e6), 0);
    rec.writeUInt32LE(us % 1e6, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    out.push(rec, frame);
  }
  writeFileSync(path, Buffer.concat(out));
}

/**
 * The TCP panel's connections (as crates/wirewatch/tests/support/tcp_capture.rs builds them):
 * the slowest handshake is 192.0.2.30's (310 ms), the only loss 192.0.2.40's (two
 * retransmissions).
 */
export const TCP_CONNS = [
  { client: [10, 88, 0, 1], server: [192, 0, 2, 10], port: 40001, startMs: 0, rttMs: 12, retransmissions: 0 },
  { client: [10, 88, 0, 2], server: [192, 0, 2, 20], port: 40002, startMs: 1000, rttMs: 48, retransmissions: 0 },
  { client: [10, 88, 0, 3], server: [192, 0, 2, 30], port: 40003, startMs: 2000, rttMs: 310, retransmissions: 0 },
  { client: [10, 88, 0, 4], server: [192, 0, 2, 40], port: 40004, startMs: 3000, rttMs: 25, retransmissions: 2 },
];

/**
 * Writes `path`: each connection a handshake to port 443 (SYN at its start, SYN-ACK at half the
 * RTT, ACK at the RTT), 100 bytes of data sent again every 300 ms as often as asked before the
 * server acknowledges it, and a FIN close. Returns the number of frames.
 */
export function writeTcpPcap(path, conns = TCP_CONNS, startSecs = 1700000000) {
  const records = [];
  for (const c of conns) {
    const seg = (fromClient, ms, seq, ack, flags, len) => {
      const [src, dst, sport, dport] = fromClient ? [c.client, c.server, c.port, 443] : [c.server, c.client, 443, c.port];
      records.push({ us: startSecs * 1e6 + (c.startMs + ms) * 1000, frame: tcpFrame(src, dst, sport, dport, seq, ack, flags, Buffer.alloc(len, 0x61)) });
    };
    const rtt = c.rttMs;
    seg(true, 0, 1000, 0, SYN, 0);
    seg(false, Math.floor(rtt / 2), 5000, 1001, SYN | ACK, 0);
    seg(true, rtt, 1001, 5001, ACK, 0);
    seg(true, rtt + 1, 1001, 5001, ACK | PSH, 100);
    let t = rtt + 1;
    for (let i = 0; i < c.retransmissions; i += 1) {
      t += 300;
      seg(true, t, 1001, 5001, ACK | PSH, 100);
    }
    seg(false, t + rtt, 5001, 1101, ACK, 0);
    seg(true, t + rtt + 1, 1101, 5001, FIN | ACK, 0);
    seg(false, t + 2 * rtt, 5001, 1102, FIN | ACK, 0);
    seg(true, t + 2 * rtt + 1, 1102, 5002, ACK, 0);
  }
  records.sort((a, b) => a.us - b.us);
  writePcap(path, records);
  return records.length;
}
