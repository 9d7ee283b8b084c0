-- 001 pulse_link, undone. SQLite refuses to drop an indexed column: the index goes first.
-- Each DROP COLUMN rewrites every row of contacts.
DROP INDEX IF EXISTS idx_contacts_pulse_id;
ALTER TABLE contacts DROP COLUMN pulse_synced_at;
ALTER TABLE contacts DROP COLUMN pulse_id;
