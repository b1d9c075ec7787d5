"""Collect an untrusted file in a child process held to a memory and CPU limit.

A parser that crashes (calamine aborts the whole process when a 6.5 KB xlsx asks it for
512 GiB), loops or runs out of memory takes only the child down: the parent turns that into
the file's rejection and goes on with the next file. The child reports its peak RSS (VmHWM of
its own address space); if it died, the kernel's `wait4` figure stands in, an upper bound that
also counts the parent's pages at the moment of the spawn.

Run as `python -m gn_pipelines.ingest.contained REQUEST.json RESULT.json` by `collect_contained`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from gn_pipelines.datasets import get_contract
from gn_pipelines.contracts.model import FileBudget
from gn_pipelines.settings import DataZones

_PATH_FIELDS = ("collected_path", "rejected_rows_path")


def collect_contained(archived: Path, *, contract, provider_code: str, source_file: str,
                      content_sha256: str, zones: DataZones, collected_at: dt.datetime,
                      budget: FileBudget | None = None):
    """`collect_drop` in a limited child process; a crash of the child is the file's rejection."""
    from gn_pipelines.ingest.collect import DropOutcome

    budget = budget or contract.budget
    zones.scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=zones.scratch, prefix="contained-") as work:
        request, result, errors = (Path(work) / name for name in ("request.json", "result.json", "stderr.txt"))
        request.write_text(json.dumps({
            "archived": str(archived), "dataset": contract.name, "provider_code": provider_code,
            "source_file": source_file, "content_sha256": content_sha256, "data_root": str(zones.root),
            "collected_at": collected_at.isoformat(), "budget": dataclasses.asdict(budget),
        }), encoding="utf-8")
        with errors.open("wb") as stderr:
            child = subprocess.Popen([sys.executable, "-m", __name__, str(request), str(result)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        peak_rss = usage.ru_maxrss * 1024  # Linux reports KiB
        if child.returncode == 0 and result.exists():
            fields = json.loads(result.read_text(encoding="utf-8"))
            peak_rss = fields.pop("peak_rss_bytes")
            for name in _PATH_FIELDS:
                fields[name] = Path(fields[name]) if fields[name] else None
            outcome = DropOutcome(**fields)
        else:
            outcome = DropOutcome(contract.name, provider_code, source_file, content_sha256, "rejected",
                                  reason=_crash_reason(child.returncode, errors.read_text(errors="replace"), budget),
                                  file_format=archived.suffix.lower().lstrip(".") or None)
    outcome.parser_peak_rss_bytes = peak_rss
    return outcome


def _crash_reason(returncode: int, stderr: str, budget: FileBudget) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        how = {"SIGABRT": "aborted", "SIGKILL": "was killed", "SIGSEGV": "crashed (segmentation fault)",
               "SIGXCPU": f"ran past its {budget.parser_cpu_seconds} s CPU limit"}.get(name, f"died ({name})")
    else:
        how = f"failed (exit status {returncode})"
    detail = next((line.strip() for line in stderr.splitlines()
                   if "memory allocation of" in line or "MemoryError" in line), "")
    memory = f" (it hit its {budget.parser_memory_bytes >> 20} MiB memory limit: {detail})" if detail else ""
    return (f"the file could not be parsed safely: the parser {how}{memory}; the file is refused, "
            "nothing of it was loaded, and the other files were not affected")


def _limit_child(budget: dict) -> None:
    import resource

    memory = int(budget["parser_memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(budget["parser_cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not dump personal data to disk


def _own_peak_rss() -> int:
    """VmHWM: the high-water RSS of this process's own address space (not inherited at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _main(request_path: str, result_path: str) -> int:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    _limit_child(request["budget"])
    from gn_pipelines.ingest.collect import collect_drop

    contract = dataclasses.replace(get_contract(request["dataset"]), budget=FileBudget(**request["budget"]))
    outcome = collect_drop(Path(request["archived"]), contract=contract, provider_code=request["provider_code"],
                           source_file=request["source_file"], content_sha256=request["content_sha256"],
                           zones=DataZones(Path(request["data_root"])),
                           collected_at=dt.datetime.fromisoformat(request["collected_at"]))
    fields = dataclasses.asdict(outcome) | {"peak_rss_bytes": _own_peak_rss()}
    for name in _PATH_FIELDS:
        fields[name] = str(fields[name]) if fields[name] else None
    partial = Path(result_path).with_suffix(".partial")
    partial.write_text(json.dumps(fields, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(partial, result_path)
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:3]))
