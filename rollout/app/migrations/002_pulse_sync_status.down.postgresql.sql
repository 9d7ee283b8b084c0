-- 002 pulse_sync_status, undone (the CHECK constraint goes with its column).
DROP INDEX IF EXISTS idx_contacts_pulse_sync_status;
ALTER TABLE contacts DROP COLUMN pulse_last_error;
ALTER TABLE contacts DROP COLUMN pulse_sync_status;
