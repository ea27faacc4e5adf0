-- Schema version 3: a cache for threat-intelligence look-ups, and views with the table names
-- and columns small monitors use, so their queries keep working on a Wirewatch database.
-- Views show times as UTC text ('YYYY-MM-DD HH:MM:SS', as SQLite's CURRENT_TIMESTAMP) and
-- addresses as text; they use only built-in SQL functions, so any SQLite client can read them.

CREATE TABLE intel_cache (
    ip         BLOB PRIMARY KEY,
    source     TEXT    NOT NULL,
    score      INTEGER NOT NULL,
    data       TEXT    NOT NULL,
    fetched_ts INTEGER NOT NULL,
    expires_ts INTEGER NOT NULL
);
CREATE INDEX intel_cache_expires ON intel_cache (expires_ts);

CREATE VIEW packet_counts AS
SELECT datetime(start_ts / 1000000000, 'unixepoch') AS timestamp,
       packets                                      AS total_packets,
       tcp                                          AS tcp_packets,
       udp                                          AS udp_packets,
       icmp + icmpv6                                AS icmp_packets,
       other_ip + non_ip                            AS other_packets,
       bytes                                        AS total_bytes,
       start_ts                                     AS start_ts
FROM intervals;

CREATE VIEW source_ips AS
SELECT datetime(start_ts / 1000000000, 'unixepoch') AS timestamp,
       ip_text                                      AS ip_address,
       packets                                      AS packet_count,
       bytes                                        AS byte_count,
       start_ts                                     AS start_ts
FROM talkers
WHERE direction = 'src';

CREATE VIEW dest_ips AS
SELECT datetime(start_ts / 1000000000, 'unixepoch') AS timestamp,
       ip_text                                      AS ip_address,
       packets                                      AS packet_count,
       bytes                                        AS byte_count,
       start_ts                                     AS start_ts
FROM talkers
WHERE direction = 'dst';

CREATE VIEW traffic_alerts AS
SELECT datetime(start_ts / 1000000000, 'unixepoch') AS timestamp,
       kind                                         AS alert_type,
       severity                                     AS severity,
       message                                      AS message,
       json_extract(sources, '$[0]')                AS source,
       json_extract(targets, '$[0]')                AS destination,
       confidence                                   AS confidence,
       recommendation                               AS recommendation,
       datetime(last_ts / 1000000000, 'unixepoch')  AS last_seen,
       updates                                      AS updates,
       id                                           AS id
FROM alerts
WHERE substr(kind, 1, 12) <> 'threat_intel';

CREATE VIEW threat_alerts AS
SELECT datetime(start_ts / 1000000000, 'unixepoch') AS timestamp,
       json_extract(sources, '$[0]')                AS ip_address,
       kind                                         AS threat_type,
       kind                                         AS kind,
       severity                                     AS severity,
       CAST(round(confidence * 100) AS INTEGER)     AS score,
       confidence                                   AS confidence,
       message                                      AS message,
       datetime(last_ts / 1000000000, 'unixepoch')  AS last_seen,
       id                                           AS id
FROM alerts
WHERE substr(kind, 1, 12) = 'threat_intel';
