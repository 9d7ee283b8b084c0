"""The drill harness: scenarios, population, traffic, faults, monitors, responders,
the runner, metrics, results and the ``drill`` command line."""
