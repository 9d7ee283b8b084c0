"""The release logic: the flag function, the rollout plan, A/B statistics and sequential
boundaries.
"""
