-- Schema version 5: threat intelligence on flows and talkers.
-- What blocklists or AbuseIPDB said about the flow's worse endpoint / the talker, as JSON
-- (see wirewatch_core::AddressReputation); NULL when nothing is known.
ALTER TABLE flows ADD COLUMN reputation TEXT;
ALTER TABLE talkers ADD COLUMN reputation TEXT;
