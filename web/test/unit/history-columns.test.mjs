// Unit tests of js/history-columns.js: the text of a transaction's details and endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint, historyColumns, transactionDetails } from '../../src/js/history-columns.js';

test('endpoints bracket IPv6 addresses', () => {
  assert.equal(endpoint('192.0.2.7', 443), '192.0.2.7:443');
  assert.equal(endpoint('2001:db8::1', 53), '[2001:db8::1]:53');
  assert.equal(endpoint('10.0.0.1', null), '10.0.0.1');
});

test('DNS details: type, response code, answers and latency', () => {
  const dns = {
    kind: 'dns', dns_qtype: 'A', dns_rcode: 'NOERROR', dns_latency_ms: 1.5, dns_answers_omitted: 0,
    dns_answers: [{ name: 'a.example', rrtype: 'CNAME', data: 'b.example' }, { name: 'b.example', rrtype: 'A', data: '192.0.2.1' }],
  };
  assert.equal(transactionDetails(dns), 'A NOERROR · → b.example, 192.0.2.1 · 1.50 ms');
  assert.equal(transactionDetails({ kind: 'dns', dns_qtype: 'TXT', dns_rcode: null, dns_answers: [] }), 'TXT no response');
  const many = { kind: 'dns', dns_qtype: 'A', dns_rcode: 'NOERROR', dns_answers_omitted: 3, dns_answers: Array.from({ length: 6 }, (_, i) => ({ rrtype: 'A', data: `10.0.0.${i}` })) };
  assert.equal(transactionDetails(many), 'A NOERROR · → 10.0.0.0, 10.0.0.1, 10.0.0.2, 10.0.0.3 +5');
});

test('HTTP and TLS details', () => {
  assert.equal(
    transactionDetails({ kind: 'http', http_method: 'GET', http_uri: '/a?b=<c>', http_status: 404, http_user_agent: 'curl/8' }),
    'GET /a?b=<c> → 404 · UA: curl/8',
  );
  assert.equal(transactionDetails({ kind: 'http', http_method: 'GET', http_uri: '/', http_status: null }), 'GET / → no response');
  assert.equal(
    transactionDetails({ kind: 'tls', quic: false, tls_version: 'TLSv1.3', tls_alpn: ['h2', 'http/1.1'], ja4_a: 't13d1516h2', tls_server_hello_seen: true }),
    'TLS TLSv1.3 · ALPN h2,http/1.1 · JA4 t13d1516h2',
  );
  assert.equal(transactionDetails({ kind: 'tls', quic: true, tls_alpn: ['h3'], tls_server_hello_seen: false }), 'QUIC · ALPN h3 · no server hello');
});

test('the transactions table sorts by time, kind, client, server and name', () => {
  const cols = historyColumns('transactions');
  assert.deepEqual(cols.map((c) => c.key), ['ts', 'kind', 'src_ip', 'dst_ip', 'name', 'details']);
  assert.deepEqual(cols.filter((c) => c.sortable).map((c) => c.key), ['ts', 'kind', 'src_ip', 'dst_ip', 'name']);
});
