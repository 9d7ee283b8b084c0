-- 001 pulse_link: link each contact to its Pulse record.
ALTER TABLE contacts ADD COLUMN pulse_id TEXT;
ALTER TABLE contacts ADD COLUMN pulse_synced_at TEXT;
CREATE UNIQUE INDEX idx_contacts_pulse_id ON contacts (pulse_id);
