-- 003 pulse_owner_custom_fields, undone: the sync log is dropped with its rows.
DROP TABLE IF EXISTS pulse_sync_log;
ALTER TABLE contacts DROP COLUMN pulse_custom_fields;
ALTER TABLE contacts DROP COLUMN pulse_owner_id;
