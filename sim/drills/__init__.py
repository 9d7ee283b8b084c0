"""The drills: one skeleton (``skeleton``) and its three kinds — the incident drill, the
gradual-rollout drill and the staging drill — dispatched by ``run``; the responder model
and on-call responder, the incident commander, and how each registered rollback path is
started in a drill (``paths``; the registry itself is ``sim.scenario.paths``).
"""
