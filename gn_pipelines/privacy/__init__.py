"""De-identification core (no Dagster): identifier rules, scrubbing, pseudonyms, generalisation, k-anonymity."""
