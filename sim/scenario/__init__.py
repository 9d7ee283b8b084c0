"""What a drill file may say, validated before anything runs.

``model`` (the ``Scenario`` and the rules across sections), its sections (``traffic``,
``deployment``, ``faults``, ``monitoring``, ``responder``, ``targets``, ``rollout``), the
rollback-path registry (``paths``), ``units`` (durations, distributions) and ``loader``
(YAML in, a ``Scenario`` or one clear error out).
"""
