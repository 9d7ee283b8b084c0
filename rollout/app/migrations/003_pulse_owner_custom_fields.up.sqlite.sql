-- 003 pulse_owner_custom_fields: owner and custom fields from Pulse, and a sync log.
ALTER TABLE contacts ADD COLUMN pulse_owner_id TEXT;
ALTER TABLE contacts ADD COLUMN pulse_custom_fields TEXT;  -- JSON text
CREATE TABLE pulse_sync_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('push', 'pull')),
    status TEXT NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_pulse_sync_log_contact ON pulse_sync_log (contact_id);
