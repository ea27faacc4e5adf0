-- Schema version 1: raw intervals, their top talkers, flows, alerts.
-- Timestamps are packet time in nanoseconds since the Unix epoch (INTEGER).
-- Addresses are 16-byte BLOBs, IPv4 mapped into ::ffff:0:0/96, so a CIDR filter is a BLOB range.

CREATE TABLE intervals (
    start_ts            INTEGER PRIMARY KEY,
    duration_ns         INTEGER NOT NULL,
    packets             INTEGER NOT NULL,
    bytes               INTEGER NOT NULL,
    bps                 REAL    NOT NULL,
    pps                 REAL    NOT NULL,
    tcp                 INTEGER NOT NULL,
    udp                 INTEGER NOT NULL,
    icmp                INTEGER NOT NULL,
    icmpv6              INTEGER NOT NULL,
    other_ip            INTEGER NOT NULL,
    non_ip              INTEGER NOT NULL,
    syn                 INTEGER NOT NULL,
    syn_ack             INTEGER NOT NULL,
    rst                 INTEGER NOT NULL,
    fin                 INTEGER NOT NULL,
    distinct_src_ips    INTEGER NOT NULL,
    distinct_dst_ips    INTEGER NOT NULL,
    flows_new           INTEGER NOT NULL,
    flows_active        INTEGER NOT NULL,
    flows_closed        INTEGER NOT NULL,
    flows_live          INTEGER NOT NULL,
    flows_evicted       INTEGER NOT NULL,
    decode_errors       INTEGER NOT NULL,
    drops_kernel        INTEGER NOT NULL,
    drops_interface     INTEGER NOT NULL,
    drops_queue         INTEGER NOT NULL,
    talkers_approximate INTEGER NOT NULL DEFAULT 0
);

-- Top sources/destinations of each interval (by bytes and by packets, merged).
-- ip_text duplicates ip as text so that the views below read well from any SQLite client
-- (a custom SQL function would exist only on Wirewatch's own connections); talkers are a few
-- rows per interval, so the copy costs little.
CREATE TABLE talkers (
    start_ts  INTEGER NOT NULL,
    direction TEXT    NOT NULL CHECK (direction IN ('src', 'dst')),
    ip        BLOB    NOT NULL,
    ip_text   TEXT    NOT NULL,
    packets   INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    PRIMARY KEY (start_ts, direction, ip)
) WITHOUT ROWID;
CREATE INDEX talkers_ip ON talkers (ip, start_ts);

CREATE TABLE flows (
    id                INTEGER PRIMARY KEY,
    first_ts          INTEGER NOT NULL,
    last_ts           INTEGER NOT NULL,
    proto             INTEGER NOT NULL,
    src_ip            BLOB    NOT NULL,
    src_port          INTEGER NOT NULL,
    dst_ip            BLOB    NOT NULL,
    dst_port          INTEGER NOT NULL,
    packets_fwd       INTEGER NOT NULL,
    bytes_fwd         INTEGER NOT NULL,
    packets_rev       INTEGER NOT NULL,
    bytes_rev         INTEGER NOT NULL,
    payload_bytes_fwd INTEGER NOT NULL,
    payload_bytes_rev INTEGER NOT NULL,
    tcp_flags_fwd     INTEGER NOT NULL,
    tcp_flags_rev     INTEGER NOT NULL,
    state             TEXT    NOT NULL,
    end_reason        TEXT    NOT NULL,
    app               TEXT,
    server_name       TEXT
);
-- Every flow query is bounded in time by last_ts (the reader turns "overlaps [from, to]" into
-- a last_ts range using the longest stored flow, see meta), so each index ends in last_ts:
-- address or port equality + time range is one index range, and retention deletes by last_ts.
-- first_ts in the time index makes counting a pure time range an index-only scan.
-- The reader picks one of these indexes per query by probing them (see sqlite/flows.rs).
CREATE INDEX flows_last_ts  ON flows (last_ts, first_ts);
CREATE INDEX flows_src_ip   ON flows (src_ip, last_ts);
CREATE INDEX flows_dst_ip   ON flows (dst_ip, last_ts);
CREATE INDEX flows_src_port ON flows (src_port, last_ts);
CREATE INDEX flows_dst_port ON flows (dst_port, last_ts);

-- Small store-wide facts (e.g. max_flow_duration_ns, the longest flow ever stored).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- Alerts (incidents): a known id is updated in place as the incident grows.
-- sources/targets/ports/evidence are JSON text.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    severity       TEXT    NOT NULL,
    severity_level INTEGER NOT NULL,
    confidence     REAL    NOT NULL,
    start_ts       INTEGER NOT NULL,
    last_ts        INTEGER NOT NULL,
    updates        INTEGER NOT NULL,
    sources        TEXT    NOT NULL,
    targets        TEXT    NOT NULL,
    ports          TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    recommendation TEXT    NOT NULL,
    evidence       TEXT    NOT NULL
);
CREATE INDEX alerts_last_ts ON alerts (last_ts);
CREATE INDEX alerts_kind ON alerts (kind, last_ts);
