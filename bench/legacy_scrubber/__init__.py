"""The per-row Python scrubber as it was before the registry and the DuckDB path (commit 9941742),
kept only so bench/bench_scrubber.py can print before and after side by side. Not used by the
pipeline."""
