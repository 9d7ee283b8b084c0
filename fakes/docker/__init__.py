"""The fake Docker host: an Engine API the ``docker`` CLI and compose can talk to over
``DOCKER_HOST``, and the image registry it pulls ``logos-vision-crm`` from.

``backend.DockerBackend`` is the state machine (``lifecycle`` its transition table,
``models`` its records, ``lookup`` how references resolve, ``pulls`` pull timing and the
image store, ``compose`` compose's labels and which container is served, ``registry``
the remote images); ``router.build_app`` puts the Engine API in front of it,
``payloads`` shapes its JSON.
"""
