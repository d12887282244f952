"""Storage behind small repository classes. ClientError stops here."""
