"""The Contacts app's own parts: its database (with the shared SQL pieces and PostgreSQL
backups), migrations and migrate tool, the write ledger, and the Pulse sync.
"""
