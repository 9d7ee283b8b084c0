"""The Contacts app's own parts: its database, migrations and migrate tool, the write
ledger, and the Pulse sync.
"""
