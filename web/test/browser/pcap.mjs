// Writes small pcap files for the browser tests: DNS exchanges whose names are hostile markup.
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

function udpFrame(src, dst, sport, dport, payload) {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  return Buffer.concat([eth, ip, udp, payload]);
}

/**
 * Writes `path`: DNS queries and answers for `names` (one exchange per name, 0.1 s apart, the
 * answer for name i is `servers[i]` or else 198.51.100.(10+i)), then UDP datagrams to those
 * addresses.
 */
export function writeDnsPcap(path, names, startSecs = 1700000000, servers = null) {
  const serverOf = (i) => (servers && servers[i]) || [198, 51, 100, 10 + i];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const records = [header];
  const client = [10, 77, 0, 1];
  const resolver = [10, 77, 0, 53];
  let t = 0;
  names.forEach((name, i) => {
    const server = serverOf(i);
    const q = udpFrame(client, resolver, 40000 + i, 53, dnsMessage(100 + i, name, null));
    const a = udpFrame(resolver, client, 53, 40000 + i, dnsMessage(100 + i, name, server));
    for (const frame of [q, a]) {
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(startSecs + Math.floor(t / 10), 0);
      rec.writeUInt32LE((t % 10) * 100000, 4);
      rec.writeUInt32LE(frame.length, 8);
      rec.writeUInt32LE(frame.length, 12);
      records.push(rec, frame);
      t += 1;
    }
  });
  // Then traffic to the resolved addresses, 2 s and 4 s later: the interval holding the first
  // round closes when the second arrives, so the named servers show among its talkers.
  for (const round of [2, 4]) {
    names.forEach((_, i) => {
      const frame = udpFrame(client, serverOf(i), 41000 + i, 443, Buffer.alloc(32, 0x17));
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(startSecs + round, 0);
      rec.writeUInt32LE(i * 1000, 4);
      rec.writeUInt32LE(frame.length, 8);
      rec.writeUInt32LE(frame.length, 12);
      records.push(rec, frame);
    });
  }
  writeFileSync(path, Buffer.concat(records));
}
