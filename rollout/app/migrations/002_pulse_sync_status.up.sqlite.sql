-- 002 pulse_sync_status: where each contact stands with the Pulse sync.
ALTER TABLE contacts ADD COLUMN pulse_sync_status TEXT NOT NULL DEFAULT 'pending'
    CHECK (pulse_sync_status IN ('pending', 'synced', 'error'));
ALTER TABLE contacts ADD COLUMN pulse_last_error TEXT;
CREATE INDEX idx_contacts_pulse_sync_status ON contacts (pulse_sync_status);
