"""The fake Slack: incoming webhooks bound to channels, messages kept with virtual times.

``backend.SlackBackend`` is the state (webhooks, channels, messages); ``router.build_app``
puts the webhook endpoint ``POST /services/T…/B…/secret`` in front of it, answering
``ok`` or Slack's plain-text error codes.
"""
