"""``drill calibrate``: scenario timings fitted to the team's own history in the
vendors' APIs (or their JSON exports), written as a ``--set @FILE`` overlay.

``sources`` reads the history (one sample of durations per timing input), ``fit`` fits
each sample to the scenario's distribution family, ``overlay`` writes the file, and
``command`` is the CLI.
"""
