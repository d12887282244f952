"""CRMs: webhook adapters that turn what a CRM really sends into the canonical Lead,
webhook signature verification, and the CRM API clients used for write-back."""
