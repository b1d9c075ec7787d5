"""One "host" of the two-host tests: plans as `gn-pipelines process` does, says what it planned,
waits (bounded) until the test lets it go, then executes its runs in this process as `process`
does, one line per file. Planning and executing are split only so the test can make two hosts
plan different file sets of one month and then run at the same time.

    python -m gn_pipelines_tests.e2e.planning_host <go-file>
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

GO_TIMEOUT_SECONDS = 300
PLANNED = "PLANNED"


def main(go: Path) -> int:
    import dagster as dg

    from gn_pipelines.processing import _definitions, execute_request_in, pending_requests, plan_runs
    from gn_pipelines.run_outcomes import is_drop, request_labels

    with dg.DagsterInstance.get() as instance:
        requests, _ = plan_runs(_definitions(), instance)
        pending, _ = pending_requests(instance, requests)
        for request in [r for r in pending if not is_drop(r)]:  # the warehouse set-up, before any drop
            for outcome in execute_request_in(instance, request):
                print(outcome.line, flush=True)
        drops = [r for r in pending if is_drop(r)]
        for request in drops:
            print("planned:", " ".join(request_labels(request)), flush=True)
        print(PLANNED, flush=True)
        deadline = time.monotonic() + GO_TIMEOUT_SECONDS
        while not go.exists():  # bounded polling for the test's signal
            if time.monotonic() > deadline:
                print(f"no go after {GO_TIMEOUT_SECONDS} s", flush=True)
                return 2
            time.sleep(0.05)
        failed = False
        for request in drops:
            for outcome in execute_request_in(instance, request):
                print(outcome.line, flush=True)
                failed |= not outcome.success
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
