"""Inbound webhooks: authentication and parsing into the canonical Lead."""
