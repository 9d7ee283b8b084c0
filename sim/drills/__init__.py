"""The drills: the incident drill, the gradual-rollout drill and the staging drill, the
responder and the incident commander, and the rollback-path registry.
"""
