"""The open-data OpenAPI and portal: a data.go.kr-style keyed API and a live portal over the
current open release.

Plain Python below the web layer: `release` reads one open release (DuckDB in memory),
`query` validates a request's parameters and pages a table, `keys` holds API keys and their
daily usage (SQLite), `convention` renders data.go.kr envelopes, `portal` and `charts` draw the
pages. `app` wires them into FastAPI; `server` runs it on uvicorn.
"""
