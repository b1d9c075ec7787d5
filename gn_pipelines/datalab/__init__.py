"""Data-lab core (no Dagster): extract requests, their checks, the extract writer and the audit trail."""
