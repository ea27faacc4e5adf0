-- Schema version 10: for a flow inside a tunnel, the tunnel and the outer packet that carried
-- its first packet (`vxlan udp 192.0.2.1:40000 -> 192.0.2.2:4789`); NULL otherwise, and in rows
-- written before this version.
ALTER TABLE flows ADD COLUMN tunnel TEXT;
