"""Measurements of the console at scale: ``make bench`` (never part of ``make test``)."""
