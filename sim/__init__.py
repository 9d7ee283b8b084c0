"""The drill harness, in layers (each imports only the ones below it; CI checks it):

``cli`` · ``sweeps`` (Monte Carlo sweeps, the CI gate) and ``serve`` (the fakes live) ·
``drills`` (the incident, rollout and staging drills on one skeleton) · ``results``
(metrics, bounds, reports) · ``world`` (the fakes on one clock, users, traffic, faults,
monitoring, the app's repository, CI, database and sync) · ``scenario`` (what a drill
file may say) · ``journal``, ``rng``, ``errors``, ``progress``.
"""
