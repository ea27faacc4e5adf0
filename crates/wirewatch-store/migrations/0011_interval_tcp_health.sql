-- Schema version 11: the TCP health of each interval (see wirewatch_core::IntervalMetrics):
-- segments retransmitted (every kind, as tshark's tcp.analysis.retransmission) and out of
-- order, handshakes whose round-trip time was measured, and the median and 95th percentile of
-- those round-trip times in milliseconds (NULL without a timed handshake, and in rows written
-- before this version).
ALTER TABLE intervals ADD COLUMN tcp_retransmissions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals ADD COLUMN tcp_out_of_order INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals ADD COLUMN tcp_handshakes_timed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals ADD COLUMN tcp_rtt_p50_ms REAL;
ALTER TABLE intervals ADD COLUMN tcp_rtt_p95_ms REAL;
-- The roll-ups sum the counters. Percentiles cannot be summed: a roll-up keeps the worst 95th
-- percentile of the intervals it covers (tcp_rtt_p95_max_us) and the handshake-weighted sum of
-- their medians (tcp_rtt_p50_wsum_us: median × handshakes), read back as the weighted mean of
-- the medians; both in microseconds, 0 when no handshake was timed.
ALTER TABLE intervals_1m ADD COLUMN tcp_retransmissions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1m ADD COLUMN tcp_out_of_order INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1m ADD COLUMN tcp_handshakes_timed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1m ADD COLUMN tcp_rtt_p50_wsum_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1m ADD COLUMN tcp_rtt_p95_max_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1h ADD COLUMN tcp_retransmissions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1h ADD COLUMN tcp_out_of_order INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1h ADD COLUMN tcp_handshakes_timed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1h ADD COLUMN tcp_rtt_p50_wsum_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals_1h ADD COLUMN tcp_rtt_p95_max_us INTEGER NOT NULL DEFAULT 0;
