"""Every fake vendor, in one list: the drill world, the incident commander and
``drill serve`` all stand vendors up from ``VENDORS`` (``fakes.common.descriptor.Vendor``).

The order is ``drill serve``'s port order (``--port-base`` + index). The Contacts app
comes after the vendors whose state it serves. Adding a fake vendor: its package with
``backend.py``, ``router.py`` and ``vendor.py``, and one line here.
"""

from __future__ import annotations

from typing import Any

from fakes.common.descriptor import Vendor
from fakes.contacts.vendor import CONTACTS
from fakes.docker.vendor import DOCKER
from fakes.netlify.vendor import NETLIFY
from fakes.pagerduty.vendor import PAGERDUTY
from fakes.posthog.vendor import POSTHOG
from fakes.pulse.vendor import PULSE
from fakes.sentry.vendor import SENTRY
from fakes.slack.vendor import SLACK
from fakes.statuspage.vendor import STATUSPAGE
from fakes.vercel.vendor import VERCEL

VENDORS: tuple[Vendor[Any], ...] = (VERCEL, NETLIFY, POSTHOG, SENTRY, PULSE, SLACK, STATUSPAGE,
                                    PAGERDUTY, CONTACTS, DOCKER)
COMMS: tuple[Vendor[Any], ...] = (SLACK, STATUSPAGE, PAGERDUTY)  # the incident's channels
