-- Schema version 12: application transactions, one row each: a DNS query and its answer, an
-- HTTP request and its response, a TLS or QUIC handshake (wirewatch_core::Transaction).
--
-- Encodings as in flows: ts is packet time in nanoseconds since the Unix epoch (INTEGER),
-- addresses are 16-byte BLOBs (IPv4 mapped into ::ffff:0:0/96) so a CIDR filter is a BLOB
-- range, proto is the IP protocol number. src is the client (the flow's initiator), dst the
-- server.
--
-- Layout: the columns people filter, search and sort on are columns of their own (NULL when
-- the kind does not have them):
--   name       the DNS query name, the HTTP Host, the TLS/QUIC server name (Transaction::name)
--   dns:       qtype, rcode, latency_ms
--   http:      method, uri, status, user_agent
--   tls:       version, alpn (JSON array text, '["h2","http/1.1"]'), ja4 (the whole JA4
--              fingerprint, when the hello's lists were captured whole), quic (0/1)
-- and `details` holds the rest as compact JSON: the kind's object of wirewatch_core's
-- TransactionDetails without the values that have a column (DNS: id, query_seen, answers,
-- answers_omitted; HTTP: request_bytes, response_bytes; TLS: ja4_a, cipher, server_hello_seen), e.g.
-- '{"type":"dns","id":7,"query_seen":true,"answers":[...]}'. Every string came off the
-- network: show it as text only.

CREATE TABLE transactions (
    id         INTEGER PRIMARY KEY,
    ts         INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('dns', 'http', 'tls')),
    proto      INTEGER NOT NULL,
    src_ip     BLOB    NOT NULL,
    src_port   INTEGER NOT NULL,
    dst_ip     BLOB    NOT NULL,
    dst_port   INTEGER NOT NULL,
    name       TEXT,
    qtype      TEXT,
    rcode      TEXT,
    latency_ms REAL,
    method     TEXT,
    uri        TEXT,
    status     INTEGER,
    user_agent TEXT,
    version    TEXT,
    alpn       TEXT,
    ja4        TEXT,
    quic       INTEGER,
    details    TEXT    NOT NULL
);
-- Every query is bounded in time by ts, and retention deletes by it: the time index answers
-- a range (and the size cap's "oldest first"); the kind index a kind within a range.
CREATE INDEX transactions_ts     ON transactions (ts);
CREATE INDEX transactions_kind   ON transactions (kind, ts);
-- Address filters match the client or the server: one index each, ending in ts as flows'.
CREATE INDEX transactions_src_ip ON transactions (src_ip, ts);
CREATE INDEX transactions_dst_ip ON transactions (dst_ip, ts);
-- Names are searched by substring (LIKE '%…%' with the wildcards escaped, as flows' names),
-- which no B-tree can seek; this index lets such a search (and its count) scan the names
-- alone instead of whole rows with their URIs, user agents and details.
CREATE INDEX transactions_name   ON transactions (name, ts);
