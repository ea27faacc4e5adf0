-- Schema version 4: the application layer.
-- Rows written before this version have NULL in the new columns.

-- Packets and bytes per application protocol: JSON [{"app": "tls", "packets": 3, "bytes": 900}].
ALTER TABLE intervals ADD COLUMN apps TEXT;
-- The talker's host name, learned passively from DNS answers seen on the wire.
ALTER TABLE talkers ADD COLUMN name TEXT;
-- How `app` was found: 'payload' (recognised) or 'port' (well-known port guess).
ALTER TABLE flows ADD COLUMN app_source TEXT;
-- Names and application details found in the payloads (JSON, see wirewatch_core::AppDetails):
-- DNS queries and response codes, HTTP request/response, TLS handshake, QUIC version, SSH banners.
ALTER TABLE flows ADD COLUMN details TEXT;
