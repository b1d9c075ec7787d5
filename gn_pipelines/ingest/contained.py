"""Collect an untrusted file in a child process held to a memory and CPU limit.

A parser that crashes (calamine aborts the whole process when a 6.5 KB xlsx asks it for
512 GiB), loops or runs out of memory takes only the child down: the parent turns that into
the file's rejection and goes on with the next file. The child reports its peak RSS (VmHWM of
its own address space); if it died, the kernel's `wait4` figure stands in, an upper bound that
also counts the parent's pages at the moment of the spawn.

Run as `python -m gn_pipelines.ingest.contained REQUEST.json RESULTS_DIR` by `collect_contained_batch`:
one child parses a whole batch, file after file, each with its own CPU allowance, in one DuckDB;
the files of one shape (same headers) are then typed together, in one statement. Before each
step the child names it in a phase file, so a crash is pinned on the file being parsed; a crash
while typing a group makes the next child collect those files one by one, which pins it.
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
from dataclasses import dataclass
from pathlib import Path

from gn_pipelines.datasets import get_contract
from gn_pipelines.contracts.model import FileBudget
from gn_pipelines.settings import DataZones
from gn_pipelines.unfinished_writes import remove_dead_work_directories, work_directory

_PATH_FIELDS = ("collected_path", "rejected_rows_path")


def collect_contained(archived: Path, *, contract, provider_code: str, source_file: str,
                      content_sha256: str, zones: DataZones, collected_at: dt.datetime,
                      budget: FileBudget | None = None):
    """`collect_drop` in a limited child process; a crash of the child is the file's rejection."""
    (outcome,) = collect_contained_batch([ContainedFile(archived, provider_code, source_file, content_sha256)],
                                         contract=contract, zones=zones, collected_at=collected_at, budget=budget)
    return outcome


@dataclass(frozen=True)
class ContainedFile:
    archived: Path
    provider_code: str
    source_file: str
    content_sha256: str


PARALLEL_FROM_FILES = 8  # a batch of many (small) files is parsed by two children at once
CHILDREN = 2


def collect_contained_batch(files: list[ContainedFile], *, contract, zones: DataZones,
                            collected_at: dt.datetime, budget: FileBudget | None = None) -> list:
    """`collect_drop` for each file, in turn, in a limited child process (a child per file cost
    more than parsing a small file; a batch of many files is shared by two children, one per
    core, each held to the budget). Each file gets its own CPU allowance and a fresh peak-RSS
    figure; a file that kills its child is that file's rejection, and a new child goes on with
    the files after it. Returns one outcome per file, in order."""
    from concurrent.futures import ThreadPoolExecutor

    budget = budget or contract.budget
    outcomes: list = [None] * len(files)
    children = min(CHILDREN, os.cpu_count() or 1) if len(files) >= PARALLEL_FROM_FILES else 1
    with work_directory(zones.scratch, prefix="contained-") as work:
        shares = [list(range(len(files)))[i::children] for i in range(children)]
        if children == 1:
            _collect_share(Path(work), files, shares[0], contract, zones, collected_at, budget, outcomes)
        else:
            with ThreadPoolExecutor(children) as pool:  # threads only wait for their child
                list(pool.map(lambda share: _collect_share(Path(work), files, share, contract, zones,
                                                           collected_at, budget, outcomes), shares))
    return outcomes


def _collect_share(work: Path, files: list[ContainedFile], pending: list[int], contract, zones: DataZones,
                   collected_at: dt.datetime, budget: FileBudget, outcomes: list) -> None:
    together = True
    while pending:
        crashed, returncode, stderr_text, peak_rss, phase = _run_child(
            work, files, pending, contract, zones, collected_at, budget, outcomes, together)
        pending = [i for i in pending if outcomes[i] is None]
        if not (crashed and pending):
            continue
        if phase.get("group"):  # the crash came while typing files together: redo them one by one
            together = False
            continue
        # the child names the file it parses; without a phase, the first file without a result
        culprit = phase["file"] if phase.get("file") in pending else pending[0]
        pending.remove(culprit)
        outcomes[culprit] = _rejected(contract, files[culprit], _crash_reason(returncode, stderr_text, budget))
        outcomes[culprit].parser_peak_rss_bytes = peak_rss


def _rejected(contract, file: ContainedFile, reason: str):
    from gn_pipelines.ingest.collect import DropOutcome

    return DropOutcome(contract.name, file.provider_code, file.source_file, file.content_sha256, "rejected",
                       reason=reason, file_format=file.archived.suffix.lower().lstrip(".") or None)


def _run_child(work: Path, files: list[ContainedFile], pending: list[int], contract, zones: DataZones,
               collected_at: dt.datetime, budget: FileBudget, outcomes: list, together: bool):
    """One child over the `pending` files; fills `outcomes` with what it finished."""
    from gn_pipelines.ingest.collect import DropOutcome

    attempt = Path(tempfile.mkdtemp(dir=work, prefix=f"attempt-{pending[0]}-"))
    request, errors = attempt / "request.json", attempt / "stderr.txt"
    request.write_text(json.dumps({
        "dataset": contract.name, "data_root": str(zones.root), "collected_at": collected_at.isoformat(),
        "budget": dataclasses.asdict(budget), "together": together,
        "files": [{"index": i, "archived": str(files[i].archived), "provider_code": files[i].provider_code,
                   "source_file": files[i].source_file, "content_sha256": files[i].content_sha256}
                  for i in pending],
    }), encoding="utf-8")
    with errors.open("wb") as stderr:
        child = subprocess.Popen([sys.executable, "-m", __name__, str(request), str(attempt)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # wait4: the child's own peak RSS
        # told to Popen too: else it takes the reaped child for a running one, warns when
        # collected and polls its pid later, which by then may be another child's
        returncode = child.returncode = os.waitstatus_to_exitcode(status)
    for i in pending:
        result = attempt / f"result-{i}.json"
        if not result.exists():
            continue
        fields = json.loads(result.read_text(encoding="utf-8"))
        peak_rss = fields.pop("peak_rss_bytes")
        for name in _PATH_FIELDS:
            fields[name] = Path(fields[name]) if fields[name] else None
        outcomes[i] = DropOutcome(**fields)
        outcomes[i].parser_peak_rss_bytes = peak_rss
    crashed = returncode != 0
    if crashed:  # its work directories hold decoded rows and spill: not left for the next process
        remove_dead_work_directories(zones.scratch)
    phase_file = attempt / _PHASE_FILE
    phase = json.loads(phase_file.read_text(encoding="utf-8")) if crashed and phase_file.exists() else {}
    return crashed, returncode, errors.read_text(errors="replace") if crashed else "", usage.ru_maxrss * 1024, phase


_PHASE_FILE = "phase.json"
# Files typed together: small ones (the typing's planning dominates them), up to a bounded total
GROUP_FILE_BYTES = 8 << 20
GROUP_TOTAL_BYTES = 64 << 20


def _enter_phase(results_dir: Path, phase: dict) -> None:
    """Say what the child does now (atomically), so the parent can blame the right file."""
    target = results_dir / _PHASE_FILE
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(phase), encoding="utf-8")
    os.replace(partial, target)


# How running out of the address-space limit ends a parser (lower case): Rust (calamine), Python,
# DuckDB, glibc
_OUT_OF_MEMORY_SIGNS = ("memory allocation of", "memoryerror", "outofmemoryexception", "cannot allocate memory")


def _crash_reason(returncode: int, stderr: str, budget: FileBudget) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        how = {"SIGABRT": "aborted", "SIGKILL": "was killed", "SIGSEGV": "crashed (segmentation fault)",
               "SIGXCPU": f"ran past its {budget.parser_cpu_seconds} s CPU limit"}.get(name, f"died ({name})")
    else:
        how = f"failed (exit status {returncode})"
    detail = next((line.strip() for line in stderr.splitlines()
                   if any(sign in line.lower() for sign in _OUT_OF_MEMORY_SIGNS)), "")
    memory = f" (it hit its {budget.parser_memory_bytes >> 20} MiB memory limit: {detail})" if detail else ""
    return (f"the file could not be parsed safely: the parser {how}{memory}; the file is refused, "
            "nothing of it was loaded, and the other files were not affected")


def _limit_child(budget: dict, files: int) -> None:
    import resource

    memory = int(budget["parser_memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(budget["parser_cpu_seconds"])
    # the hard limit covers every file; each file's own allowance is set as it starts
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu * files + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not dump personal data to disk


def _allow_cpu_for_next_file(budget: dict) -> None:
    """CPU seconds used so far plus one file's allowance (SIGXCPU past it: that file's rejection)."""
    import math
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = math.ceil(used.ru_utime + used.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (min(spent + int(budget["parser_cpu_seconds"]), hard), hard))
    try:  # a fresh VmHWM for this file's peak RSS (Linux: "5" resets the peak)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _own_peak_rss() -> int:
    """VmHWM: the high-water RSS of this process's own address space (not inherited at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _main(request_path: str, results_dir: str) -> int:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    # the hard limit covers every file and every group typed together
    _limit_child(request["budget"], 2 * len(request["files"]))
    from gn_pipelines.ingest.collect import GroupMember, collect_group, load_for_group
    from gn_pipelines.ingest.parquet_io import work_connection

    contract = dataclasses.replace(get_contract(request["dataset"]), budget=FileBudget(**request["budget"]))
    zones = DataZones(Path(request["data_root"]))
    collected_at = dt.datetime.fromisoformat(request["collected_at"])
    results = Path(results_dir)
    held: dict[tuple, list[tuple[int, GroupMember, int]]] = {}  # by shape: (index, member, parse peak)
    held_bytes = 0

    def write_result(index: int, outcome, peak_rss: int) -> None:
        fields = dataclasses.asdict(outcome) | {"peak_rss_bytes": peak_rss}
        for name in _PATH_FIELDS:
            fields[name] = str(fields[name]) if fields[name] else None
        result = results / f"result-{index}.json"
        partial = result.with_suffix(".partial")
        partial.write_text(json.dumps(fields, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(partial, result)

    def type_held() -> None:
        nonlocal held_bytes
        for group in held.values():
            _allow_cpu_for_next_file(request["budget"])
            _enter_phase(results, {"group": [index for index, _, _ in group]})
            outcomes = collect_group(connection, contract, [member for _, member, _ in group])
            group_peak = _own_peak_rss()
            for (index, _, parse_peak), outcome in zip(group, outcomes):
                write_result(index, outcome, max(parse_peak, group_peak))
        held.clear()
        held_bytes = 0

    with work_directory(zones.scratch, prefix="contained-duckdb-") as work:
        connection = work_connection(Path(work))
        for file in request["files"]:
            _allow_cpu_for_next_file(request["budget"])
            _enter_phase(results, {"file": file["index"]})
            archived = Path(file["archived"])
            loaded = load_for_group(connection, archived, contract=contract, provider_code=file["provider_code"],
                                    source_file=file["source_file"], content_sha256=file["content_sha256"],
                                    zones=zones, collected_at=collected_at, table=f"raw_{file['index']}")
            if isinstance(loaded, GroupMember) and (not request["together"] or archived.stat().st_size > GROUP_FILE_BYTES):
                # typed alone, still in this file's phase and CPU allowance
                (loaded,) = collect_group(connection, contract, [loaded])
            if not isinstance(loaded, GroupMember):
                write_result(file["index"], loaded, _own_peak_rss())
                continue
            held.setdefault(loaded.loader.shape, []).append((file["index"], loaded, _own_peak_rss()))
            held_bytes += archived.stat().st_size
            if held_bytes > GROUP_TOTAL_BYTES:
                type_held()
        type_held()
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:3]))
