"""Pieces every fake shares: the clock, the error base, timed transitions, build
timelines, what production serves, the vendor descriptor, the fault model (and, apart,
its router), the ``/_fake/`` control routes and the app factory.
"""
