"""Monte Carlo sweeps over seeds and parameters, their executors and statistics, and the CI
gate.
"""
