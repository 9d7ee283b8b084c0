"""Game day: the drill runs live against the fakes, people respond with their real tools.

``clock`` keeps the live, pausable clock and the SimPy environment that follows it;
``recorder`` journals each call a person (or a real client) makes to the served fakes;
``drill`` is the incident drill in which no modelled responder acts and the person's
acknowledgement and control-plane changes are read back from the fakes; ``view`` is the
facilitator's web page and its controls; ``host`` serves the fakes and the page over TCP;
``runner`` runs a game day end to end and writes its results; ``command`` is
``drill gameday``.
"""
