"""CRM adapters: each turns what a CRM really sends into the canonical Lead."""
