-- Schema version 8: the health of TCP connections as seen at the capture point (see
-- wirewatch_core::TcpHealth): the handshake round-trip time in milliseconds (as tshark's
-- tcp.analysis.initial_rtt) and the segments retransmitted (every kind), out of order, after
-- a gap (lost) and announcing a zero window. NULL for flows that are not TCP, for a TCP flow
-- without a captured handshake (the RTT), and in rows written before this version.
ALTER TABLE flows ADD COLUMN tcp_rtt_ms REAL;
ALTER TABLE flows ADD COLUMN tcp_retransmissions INTEGER;
ALTER TABLE flows ADD COLUMN tcp_out_of_order INTEGER;
ALTER TABLE flows ADD COLUMN tcp_lost_segments INTEGER;
ALTER TABLE flows ADD COLUMN tcp_zero_windows INTEGER;
