"""Collection of municipal drops: landing-zone scanning, archiving, decoding, header mapping
and typing in DuckDB. Plain Python; the Dagster assets and sensor call into it."""
