-- 001 pulse_link, undone. DROP COLUMN only marks the columns dropped (no rewrite).
DROP INDEX IF EXISTS idx_contacts_pulse_id;
ALTER TABLE contacts DROP COLUMN pulse_synced_at;
ALTER TABLE contacts DROP COLUMN pulse_id;
