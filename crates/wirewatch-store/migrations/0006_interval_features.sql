-- Schema version 6: what the anomaly model reads from an interval besides the counters
-- (so a model can be trained on a stored time range). Rows from before are 0.
ALTER TABLE intervals ADD COLUMN distinct_dst_ports INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intervals ADD COLUMN src_entropy REAL NOT NULL DEFAULT 0;
ALTER TABLE intervals ADD COLUMN dst_entropy REAL NOT NULL DEFAULT 0;
