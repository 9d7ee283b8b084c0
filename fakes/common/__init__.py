"""Pieces every fake shares: the clock, the error base class, the app factory."""
