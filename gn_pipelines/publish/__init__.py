"""Publication core (no Dagster): published-table definitions, atomic publication, suppression, open data."""
