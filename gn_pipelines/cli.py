"""The `gn-pipelines` command: synthesise drops, process the landing zone, run the platform."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from gn_pipelines.privacy.key_custody import DEV_SESSION_ENV, PSEUDONYM_KEY_FILE_ENV
from gn_pipelines.settings import PSEUDONYM_KEY_ENV, SETTLE_SECONDS_ENV, DataZones


def _process(args: argparse.Namespace) -> int:
    from gn_pipelines.instance import ensure_dagster_home, open_instance

    zones = checked_zones()
    ensure_dagster_home(zones)
    if args.workers > 1 and not getattr(args, "submit", False) and _anything_landed(zones):
        from gn_pipelines.worker_server import worker_context

        worker_context()  # the workers' imports (seconds) overlap this process's imports and planning
    from gn_pipelines.processing import process_landing
    from gn_pipelines.run_outcomes import summary

    try:
        with open_instance() as instance:
            outcomes = process_landing(instance, workers=args.workers, publish=args.publish,
                                       submit=getattr(args, "submit", False))
    except Exception as error:
        if not disk_full(error):
            raise
        print(f"gn-pipelines process: the disk is full ({error.__class__.__name__}: "
              f"{str(error).splitlines()[0][:200]}). {DISK_FULL_ADVICE}", file=sys.stderr)
        return 1
    print(summary(outcomes))
    if any(o.interrupted for o in outcomes):
        print("interrupted (Ctrl-C or SIGTERM): stopped before the remaining runs", file=sys.stderr)
        return INTERRUPTED_EXIT
    return 1 if any(not o.success and not o.claimed_elsewhere for o in outcomes) else 0


DISK_FULL_ADVICE = ("What was published stays as it was, and no file is lost: free space on the disk of "
                    "the data root and DAGSTER_HOME, then run `gn-pipelines process` again to finish the work.")


def disk_full(error: BaseException) -> bool:
    """Whether `error`, or an error it came from, says the disk is full (the OS's ENOSPC, or
    SQLite's or DuckDB's words for it): a plain line then, not a page of traceback."""
    import errno

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        text = str(error)
        if "database or disk is full" in text or "No space left on device" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


def _anything_landed(zones: DataZones) -> bool:
    return any(path.is_file() for path in zones.landing.rglob("*")) if zones.landing.is_dir() else False


INTERRUPTED_EXIT = 130  # as a shell reports a command ended by a signal


def _dev(args: argparse.Namespace) -> int:
    """Sample drops (if the landing zone is empty), process them, then start `dagster dev`."""
    from gn_pipelines.instance import ensure_dagster_home

    zones = checked_zones()
    home = ensure_dagster_home(zones)
    os.environ[DEV_SESSION_ENV] = "1"  # a dev session alone may use a key under 32 bytes
    rotated = ensure_session_key(zones)
    settle = os.environ.get(SETTLE_SECONDS_ENV)
    if args.sample and not any(zones.landing.iterdir()):
        from gn_pipelines.synth.command import write_sample_drops

        if args.workers > 1:  # the sample makes several runs: the workers' imports start now
            from gn_pipelines.worker_server import worker_context

            worker_context()
        write_sample_drops(zones.landing)
        os.environ[SETTLE_SECONDS_ENV] = "0"  # our own sample files are complete: no need to wait
    status = _process(argparse.Namespace(workers=args.workers, publish=True if rotated else None))
    if args.workers > 1:
        from gn_pipelines.worker_server import stop_worker_server

        stop_worker_server()  # its imports (hundreds of MB) are not needed while the UI runs
    if status == INTERRUPTED_EXIT:
        return status  # stopped while processing: no UI
    _restore_env(SETTLE_SECONDS_ENV, settle)  # the daemon's sensor waits as configured
    if status:
        print("some runs failed: see the Runs page in the UI", file=sys.stderr)
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={home}, data root {zones.root})",
          flush=True)
    dagster = Path(sys.executable).with_name("dagster")  # the venv's, even when it is not activated
    # `dagster dev` warns on every start that `dg dev` (the separate dagster-dg tool) supersedes
    # it: nothing for the person who ran `gn-pipelines dev` to act on
    warnings = ",".join(filter(None, (os.environ.get("PYTHONWARNINGS"), DAGSTER_DEV_SUPERSEDED)))
    return _supervise([str(dagster), "dev", "-m", "gn_pipelines.definitions", "-h", args.host, "-p", str(args.port)],
                      env=dict(os.environ, PYTHONWARNINGS=warnings))


SHUTDOWN_GRACE_SECONDS = 5.0
DAGSTER_DEV_SUPERSEDED = "ignore:Function `dev_command` is superseded"  # a -W filter: action, message start


def _supervise(command: list[str], env: dict[str, str] | None = None) -> int:
    """Run `dagster dev` as a child and stop it cleanly on Ctrl-C or SIGTERM: it gets SIGINT (it
    then stops its webserver, daemon and code servers); whatever of it is still running after
    SHUTDOWN_GRACE_SECONDS is killed. (`dagster dev` alone ignores SIGTERM when it was started in
    the background, where SIGINT is ignored, and its services can take longer to stop.)"""
    import subprocess
    import time

    # a shell starts background jobs with SIGINT ignored, and the child would inherit that
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    child = subprocess.Popen(command, env=env)
    stop_requested: list[float] = []
    started: set[int] = set()  # its processes when the stop was asked (a code server may outlive its parent)

    def request_stop(signum, _frame) -> None:
        if not stop_requested:
            stop_requested.append(time.monotonic())
            started.update(_descendants(child.pid))
            if signum == signal.SIGTERM:  # Ctrl-C reaches the child itself (same process group)
                child.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while True:
        try:
            status = child.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            pass
        if stop_requested and time.monotonic() - stop_requested[0] > SHUTDOWN_GRACE_SECONDS:
            _kill({*started, *_descendants(child.pid), child.pid})
            status = child.wait()
            break
    if stop_requested:
        _kill(started)  # whatever dagster dev left behind
    return status


def _kill(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc; elsewhere none, and only the child is killed)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # it ended while we looked
    found: list[int] = []
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - set(found)
        found += sorted(frontier)
    return found


def _extract(args: argparse.Namespace) -> int:
    """Submit a data-lab request through the Dagster job (recorded in the instance like a UI run);
    prints `<id>: granted`, `<id>: pending review` or `<id>: refused (<reason>)`."""
    import logging

    import yaml

    # an extract reads the published warehouse, never the key: the code location's warning
    # that the key is unset ("de-identification will refuse to run") does not concern it
    logging.getLogger("gn_pipelines.resources.pseudonym_key").setLevel(logging.ERROR)
    from gn_pipelines.assets.datalab import ExtractRequestConfig
    from gn_pipelines.definitions import defs
    from gn_pipelines.instance import ensure_dagster_home, open_instance
    from gn_pipelines.run_outcomes import QUIET_CONSOLE
    from gn_pipelines.run_recovery import owner_tags

    zones = DataZones.from_env().ensure()
    ensure_dagster_home(zones)
    request = yaml.safe_load(Path(args.request).read_text(encoding="utf-8")) or {}
    if not isinstance(request, dict):
        print(f"{args.request}: an extract request is a YAML mapping (see gn_pipelines/datalab/example_request.yaml)",
              file=sys.stderr)
        return 2
    if "request_id" in request:
        request["request_id"] = str(request["request_id"])
    unknown = sorted(set(map(str, request)) - set(ExtractRequestConfig.model_fields))
    if unknown:  # the run config would reject it unaudited: refuse it here, audited like any refusal
        from gn_pipelines.datalab.extract import refuse
        from gn_pipelines.datalab.request import parse_request

        print(refuse(parse_request(request), zones, f"unknown field(s): {', '.join(unknown)}").line)
        return 2
    with open_instance() as instance:
        result = defs.resolve_job_def("datalab_extract").execute_in_process(
            run_config={"ops": {"extract_for_datalab": {"config": request}}, **QUIET_CONSOLE}, instance=instance,
            tags=owner_tags(), raise_on_error=False)
    if not result.success:
        print("the extract run failed: see the Runs page in the UI", file=sys.stderr)
        return 1
    event = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT")
    metadata = {k: v.value for k, v in event.step_output_data.metadata.items()}
    print(metadata["line"])
    if metadata["granted"]:
        print(f"  {metadata['rows']} rows, {metadata['suppressed_cells']} cells suppressed, in {metadata['folder']}; "
              f"destroyed on {metadata['expires_on']}")
    return 2 if metadata["status"] == "refused" else 0


def _datalab_review(args: argparse.Namespace) -> int:
    from gn_pipelines.datalab.lifecycle import ReviewRefused, review_request

    zones = DataZones.from_env().ensure()
    try:
        outcome = review_request(zones, args.id, reviewer=args.reviewer, approve=args.approve, note=args.note)
    except ReviewRefused as refusal:
        print(f"{args.id}: review refused ({refusal})", file=sys.stderr)
        return 3
    print(outcome.line)
    if outcome.granted:
        print(f"  {outcome.rows} rows in {outcome.directory}; destroyed on {outcome.expires_on}")
    return 2 if outcome.status == "refused" else 0


def _datalab_list(args: argparse.Namespace) -> int:
    from gn_pipelines.datalab.lifecycle import list_requests

    from gn_pipelines.datalab.risk import summary

    states = list_requests(DataZones.from_env().ensure())
    print("request_id\tstate\trequester\torganisation\ttable\tclass\texpires_on\treviewer\treason\tchecks")
    for s in states:
        print("\t".join(str(v if v is not None else "") for v in (
            s.request_id, s.decision, s.requester, s.organisation, s.table_name, s.privacy_class,
            s.expires_on, s.reviewer, s.reason, summary(s.evidence))))
    return 0


def _datalab_destroy_expired(args: argparse.Namespace) -> int:
    from datetime import date

    from gn_pipelines.datalab.lifecycle import destroy_expired

    now = date.fromisoformat(args.now) if args.now else None
    destroyed = destroy_expired(DataZones.from_env().ensure(), now)
    for item in destroyed:
        print(f"{item.request_id}: destroyed (period ended {item.expires_on}; {item.files} file(s))")
    print(f"{len(destroyed)} extract(s) destroyed")
    return 0


def _datalab_ledger(args: argparse.Namespace) -> int:
    from gn_pipelines.datalab.ledger import REGISTER_COLUMNS, export_register_csv, register

    zones = DataZones.from_env().ensure()
    if args.csv:
        count = export_register_csv(zones, Path(args.csv))
        print(f"{count} ledger record(s) written to {args.csv}")
        return 0
    print("\t".join(REGISTER_COLUMNS))
    for row in register(zones):
        print("\t".join("" if row[c] is None else str(row[c]) for c in REGISTER_COLUMNS))
    return 0


def _tributary(args: argparse.Namespace) -> int:
    """Convert the real NIER tributary workbook into water_quality drops in the landing zone."""
    from gn_pipelines.water.tributary import convert_tributary_workbook

    zones = DataZones.from_env().ensure()
    files = convert_tributary_workbook(Path(args.workbook), zones.landing)
    print(f"{len(files)} water_quality drop(s) written under {zones.landing / '48000' / 'water_quality'}")
    return 0


def _release_list(args: argparse.Namespace) -> int:
    """Print the releases kept under the data root, the current one marked."""
    from gn_pipelines.publish.releases import current_release, list_releases

    root = DataZones.from_env().root
    current = current_release(root)
    releases = list_releases(root)
    if not releases:
        print(f"no release under {root / 'releases'} yet: run gn-pipelines process")
    for release in releases:
        mark = "*" if current and release.id == current.id else " "
        if not release.complete:
            print(f"{mark} {release.id}  being built (or interrupted: the next process finishes or rolls it back)")
            continue
        tables = release.manifest.get("tables", {})
        print(f"{mark} {release.id}  completed {release.manifest.get('completed_at', '?')}  "
              f"{len(tables)} tables, {sum(tables.values()):,} rows")
    return 0


def _release_rollback(args: argparse.Namespace) -> int:
    """Make an earlier release current again (default: the one before the current release)."""
    from gn_pipelines.publish.releases import ReleaseError, rollback

    try:
        previous, now = rollback(DataZones.from_env().root, args.release_id)
    except ReleaseError as error:
        print(f"rollback refused: {error}", file=sys.stderr)
        return 2
    print(f"current release: {now} (was {previous}); warehouse/published.duckdb and open/ now show it")
    return 0


def _sql(args: argparse.Namespace) -> int:
    """A read-only SQL shell on the published warehouse (or one statement with -c)."""
    from gn_pipelines.sql_shell import main as sql_main

    zones = DataZones.from_env()
    if not args.restricted:
        return sql_main(zones.published_db, args.command)
    from gn_pipelines.restricted_views import reading_every_log

    return sql_main(zones.restricted_db, args.command, reading=lambda: reading_every_log(zones))


def ensure_session_key(zones: DataZones) -> bool:
    """`dev` only: without a key, use a random key for this session (never stored), so the
    sample platform runs end to end; a sample data root of an earlier session is re-pseudonymised
    with it (`rekey`), as one key per data root demands. Returns True when it rekeyed."""
    if os.environ.get(PSEUDONYM_KEY_ENV) or os.environ.get(PSEUDONYM_KEY_FILE_ENV):
        return False
    import secrets

    from gn_pipelines.privacy.key_custody import key_in_force

    os.environ[PSEUDONYM_KEY_ENV] = secrets.token_hex(32)
    print(f"{PSEUDONYM_KEY_ENV} is not set: using a random key for this session only; "
          "pseudonyms will differ in the next session. Set it for stable keys.", file=sys.stderr)
    if key_in_force(zones) is None:
        return False
    from gn_pipelines.privacy.rekey import rekey

    print(rekey(zones, os.environ[PSEUDONYM_KEY_ENV].encode(), run_id="dev-session").describe(), file=sys.stderr)
    return True


def checked_zones() -> DataZones:
    """The data root's zones, after saying what on disk is more open than it should be (then
    the private zones are tightened to owner-only)."""
    from gn_pipelines.settings import permission_warnings

    zones = DataZones.from_env()
    for warning in permission_warnings(zones):
        print(f"warning: {warning}", file=sys.stderr)
    return zones.ensure()


def _rekey(args: argparse.Namespace) -> int:
    """Re-pseudonymise everything with the key now configured, then publish one release with it."""
    import uuid

    from gn_pipelines.instance import ensure_dagster_home, open_instance
    from gn_pipelines.privacy.key_custody import KeyCustodyError, load_secret
    from gn_pipelines.privacy.rekey import rekey
    from gn_pipelines.processing import publish_in

    zones = checked_zones()
    ensure_dagster_home(zones)
    try:
        outcome = rekey(zones, load_secret(), run_id=f"rekey-{uuid.uuid4().hex[:12]}")
    except KeyCustodyError as error:
        print(f"rekey refused: {error}", file=sys.stderr)
        return 2
    print(outcome.describe())
    if not outcome.drops:
        return 0
    with open_instance() as instance:
        published = publish_in(instance)
    print(published.line)
    return 0 if published.success else 1


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gn-pipelines", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    # listed for --help; `main` hands its arguments to the generator's own parser
    commands.add_parser("synth", add_help=False,
                        help="write seeded synthetic drops into the landing zone (see synth --help)")

    process = commands.add_parser("process", help="collect everything waiting in the landing zone now")
    process.add_argument("--workers", type=int, default=1, help="runs executed in parallel (processes)")
    process.add_argument("--publish", action="store_true", default=None,
                         help="rebuild the published tables and exports even if no new file arrived")
    process.add_argument("--submit", action="store_true",
                         help="hand the runs to the instance's queue and run launcher (the daemon, "
                              "containers) and wait for them, instead of running them in this process")
    process.set_defaults(handler=_process)

    dev = commands.add_parser("dev", help="sample drops, process them, and start the Dagster UI")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--workers", type=int, default=2)
    dev.add_argument("--no-sample", dest="sample", action="store_false",
                     help="do not write sample drops into an empty landing zone")
    dev.set_defaults(handler=_dev)
    extract = commands.add_parser("extract", help="submit a data-lab extract request (YAML) through Dagster")
    extract.add_argument("request", help="e.g. gn_pipelines/datalab/example_request.yaml")
    extract.set_defaults(handler=_extract)
    _datalab_commands(commands)
    sql = commands.add_parser("sql", help="query the published warehouse (read-only SQL shell)")
    sql.add_argument("-c", dest="command", metavar="SQL", help="run one statement, print its result and exit")
    sql.add_argument("--restricted", action="store_true",
                     help="the restricted warehouse instead (data engineers: drop_status, rejected_rows, ...)")
    sql.set_defaults(handler=_sql)
    tributary = commands.add_parser(
        "tributary", help="convert the real NIER tributary workbook (1992-2016) into water_quality drops")
    tributary.add_argument("workbook", help="gyeongnam_tributary_water_quality_1992_2016.xlsx")
    tributary.set_defaults(handler=_tributary)
    rekey = commands.add_parser(
        "rekey", help="re-pseudonymise everything with the key now configured, in one release (key rotation)")
    rekey.set_defaults(handler=_rekey)
    release = commands.add_parser("release", help="list the published releases, or roll back to an earlier one")
    release_commands = release.add_subparsers(dest="release_command", required=True)
    release_commands.add_parser("list", help="the releases kept (GN_KEEP_RELEASES, default 3)").set_defaults(
        handler=_release_list)
    rollback = release_commands.add_parser("rollback", help="make an earlier release current in one swap")
    rollback.add_argument("release_id", nargs="?", help="default: the release before the current one")
    rollback.set_defaults(handler=_release_rollback)
    from gn_pipelines.openapi.commands import add_commands as add_openapi_commands

    add_openapi_commands(commands)  # serve, apikey
    return parser


def _datalab_commands(commands) -> None:
    datalab = commands.add_parser("datalab", help="review, list and destroy data-lab extracts; the processing ledger")
    actions = datalab.add_subparsers(dest="action", required=True)
    review = actions.add_parser("review", help="record an adequacy review (적정/부적정) of a pending request")
    review.add_argument("id", help="the request id printed by `extract`")
    review.add_argument("--reviewer", required=True, help="who reviews (not the requester)")
    verdict = review.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true", help="적정: extract now")
    verdict.add_argument("--reject", action="store_true", help="부적정: nothing is extracted")
    review.add_argument("--note", required=True, help="the reasons of the verdict")
    review.set_defaults(handler=_datalab_review)
    actions.add_parser("list", help="every request and its state").set_defaults(handler=_datalab_list)
    destroy = actions.add_parser("destroy-expired", help="destroy the extracts whose use period has ended")
    destroy.add_argument("--now", help="YYYY-MM-DD (default: today in Asia/Seoul)")
    destroy.set_defaults(handler=_datalab_destroy_expired)
    ledger = actions.add_parser("ledger", help="the 가명정보 processing ledger (시행령 제29조의5)")
    ledger.add_argument("--csv", help="write the register to this CSV file (Excel-ready)")
    ledger.set_defaults(handler=_datalab_ledger)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["synth"]:
        # imported only here: the generator's pools (Faker, pyarrow) cost other commands nothing
        from gn_pipelines.synth.command import main as synth_main

        return synth_main(argv[1:])
    args = build_parser().parse_args(argv)
    return args.handler(args)


def console() -> None:
    """The `gn-pipelines` command (main() is for callers in the same interpreter, such as tests).

    `process` ends without the interpreter's teardown: once its work, its output and every exit
    handler are done, freeing the modules it loaded (pandas, Great Expectations, DuckDB, Dagster)
    took another ~0.5 s of a week's ~15 s. Its exit status is main()'s, 1 after an exception."""
    argv = sys.argv[1:]
    if argv[:1] == ["process"]:
        import atexit

        status = [1]
        atexit.register(_exit_at_once, status)  # registered first, so it runs after every other handler
        try:
            status[0] = main(argv)
        except SystemExit as stop:  # argparse's usage errors
            status[0] = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            raise
        except KeyboardInterrupt:
            status[0] = INTERRUPTED_EXIT
            raise
        sys.exit(status[0])
    sys.exit(main(argv))


def _exit_at_once(status: list[int]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status[0])


if __name__ == "__main__":
    console()
