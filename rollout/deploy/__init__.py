"""Deploying on the hosting platform: the waits and lookups that release and rollback
procedures share (a build becoming READY, the production alias moving)."""
