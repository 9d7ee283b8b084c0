"""The drills: one skeleton (``skeleton``) and its three kinds — the incident drill, the
gradual-rollout drill and the staging drill — dispatched by ``run``; the responder model
and on-call responder, the incident commander, and the rollback-path registry.
"""
