"""The release logic: the flag function, the rollout plan, the A/B test (each arm's
samples, the per-metric comparisons, the per-look verdict), its sequential boundaries and
the go/no-go gates.
"""
