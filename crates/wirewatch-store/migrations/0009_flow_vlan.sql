-- Schema version 9: the outermost VLAN id of a flow, when flows are keyed by VLAN
-- ([flows] vlan_in_key). NULL otherwise, and in rows written before this version.
ALTER TABLE flows ADD COLUMN vlan INTEGER;
