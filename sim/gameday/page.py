"""The live view's page: one self-contained HTML document (``live.html``, no external assets).

It polls ``api/state`` twice a second and draws, on canvases, the traffic (page views a
tick), the error rate and the exposure per variant (share of users served the new and the
old page), with the incident's markers as vertical lines; beside them the clock, the
scoreboard (measured against the runbook's targets and the modelled responder) and the
calls the fakes saw. The facilitator's buttons POST to ``api/<action>``.
"""

from importlib.resources import files

PAGE = files("sim.gameday").joinpath("live.html").read_text(encoding="utf-8")
