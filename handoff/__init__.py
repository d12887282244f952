"""Handoff: the marketing-to-sales handoff engine."""

__version__ = "0.1.0"
