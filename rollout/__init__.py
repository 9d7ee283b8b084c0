"""The logic under test: what the app and the on-call automation really run.

In layers (CI checks them): ``rollback`` (the runbook's rollback procedures) · ``release``
(the flag function, the rollout plan, A/B statistics, the gates), ``incident`` (decision
tree, escalation, communications) and ``app`` (the app's database, migrations, ledger,
Pulse sync) · ``deploy`` (waits on the hosting platform) · ``steps`` (what a procedure
asks of whoever runs it) and ``clients`` (one HTTP client per vendor). Knows nothing of
SimPy or of the fakes: it is the code a team would deploy.
"""
