"""Benchmark: the OpenAPI on loopback, 16 concurrent clients asking for a 100-row JSON page.

Starts the real `gn-pipelines serve` (access log on, to a file) over a synthetic open release in
a temporary data root, drives it for a bounded time with keep-alive connections from a small
asyncio client (in this process: it needs far less CPU than an HTTP library), checks every
answer is resultCode 00, prints requests/s and p50/p99 latency, and stops the server.
Target: >= 500 requests/s and p99 < 100 ms.

Usage: .venv/bin/python bench/bench_api.py [--seconds 15] [--clients 16] [--rows 100] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gn_pipelines_tests.openapi_release import issue_key, serve, server_env, write_open_release  # noqa: E402

TABLE = "civil_complaints_monthly"


async def client(host: str, port: int, request: bytes, stop_at: float, latencies: list[float],
                 failures: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b'"resultCode":"00"' not in body[:120]:
                failures.append(body[:200])
    finally:
        writer.close()


async def drive(host: str, port: int, paths: list[str], clients: int, seconds: float) -> tuple[list[float], list[bytes]]:
    latencies: list[float] = []
    failures: list[bytes] = []
    stop_at = time.perf_counter() + seconds
    requests = [f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for i in range(clients)]
    await asyncio.gather(*(client(host, port, requests[i], stop_at, latencies, failures) for i in range(clients)))
    return latencies, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as temp:
        root = Path(temp) / "data"
        entries = write_open_release(root / "open", months=12)
        key = issue_key(server_env(root), "bench", daily_limit=100_000_000)
        with serve(root, Path(temp), workers=args.workers) as server:
            host, port = "127.0.0.1", int(server.base_url.rsplit(":", 1)[1])
            # each client its own page of the table (pages 1-6 are full 100-row pages)
            paths = [f"/api/{TABLE}?serviceKey={quote(key, safe='')}&pageNo={page}&numOfRows={args.rows}"
                     f"&resultType=json" for page in range(1, 7)]
            asyncio.run(drive(host, port, paths, args.clients, args.warmup))
            started = time.perf_counter()
            latencies, failures = asyncio.run(drive(host, port, paths, args.clients, args.seconds))
            elapsed = time.perf_counter() - started
            exit_code = server.stop()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    rate = len(latencies) / elapsed
    print(f"table {TABLE} ({entries[TABLE]['row_count']} rows), {args.rows}-row JSON pages, "
          f"{args.clients} clients, {args.workers} server process(es), {elapsed:.1f} s")
    print(f"{len(latencies):,} requests, {rate:,.0f} requests/s, p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"mean {statistics.fmean(latencies) * 1000:.1f} ms; {len(failures)} answers not 00; "
          f"server exit {exit_code} after SIGTERM")
    ok = rate >= 500 and p(0.99) < 100 and not failures
    print("target (>= 500 requests/s, p99 < 100 ms):", "met" if ok else "NOT met")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
