"""The fork server `process --workers N` forks its workers from (no Dagster import here: the
command starts it before importing anything heavy, so its imports overlap the command's own)."""

from __future__ import annotations

import multiprocessing
import os
import signal

# The pid a fork server and a worker must outlive no longer than (their parents'): in the
# environment they inherit, so a parent that died before they were told is noticed too
COMMAND_PID, FORK_SERVER_PID = "GN_COMMAND_PID", "GN_FORK_SERVER_PID"
_PR_SET_PDEATHSIG = 1

# What every worker needs, imported once in the fork server rather than in each worker; first,
# the module that ends the fork server with the command
WORKER_PRELOAD = ("gn_pipelines.fork_server_guard", "gn_pipelines.definitions", "gn_pipelines.processing", "gn_pipelines.quality.gx_suite",
                  "great_expectations", "dagster._core.instance.factory", "dagster._core.secrets.env_file")
# the modules of the instance's storage classes, which a worker's instance imports on first use
SQLITE_STORAGE_MODULES = ("dagster._core.storage.sqlite_storage", "gn_pipelines.instance_storage")
POSTGRES_STORAGE_MODULES = ("dagster_postgres.storage", "dagster_postgres.run_storage.run_storage",
                            "dagster_postgres.event_log.event_log",
                            "dagster_postgres.schedule_storage.schedule_storage")


def die_with_parent(parent_variable: str) -> None:
    """Be killed when the parent ends (Linux `PR_SET_PDEATHSIG`). A `process` killed alone (cron's
    or `timeout`'s SIGKILL of its pid) left its fork server and workers for ever, 0.6 GB and the
    command's output held open; a run they were in is recovered by the next command anyway.
    Exits at once if the parent named by `parent_variable` has already gone."""
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the parent's end is not signalled
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    expected = os.environ.get(parent_variable)
    if expected and os.getppid() != int(expected):
        os._exit(1)


def worker_started() -> None:
    """A pool worker's initializer: it ends with the fork server it was forked from."""
    die_with_parent(FORK_SERVER_PID)


def worker_context():
    """The forkserver context, its server started (or already running): it imports the
    definitions, Great Expectations and the instance's storage once (seconds each) while this
    process carries on; spawned workers would each import them. The server holds no instance,
    connection or thread, so forking from it is safe."""
    from multiprocessing import forkserver

    from gn_pipelines.instance import dagster_postgres_url

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # as the validation step sets it
    storage = POSTGRES_STORAGE_MODULES if dagster_postgres_url() else SQLITE_STORAGE_MODULES
    context = multiprocessing.get_context("forkserver")
    os.environ[COMMAND_PID] = str(os.getpid())  # the fork server ends with this process
    context.set_forkserver_preload([*WORKER_PRELOAD, *storage])  # no effect once it runs
    forkserver.ensure_running()  # starts importing now, without waiting for it
    return context


def stop_worker_server() -> None:
    """Stop the fork server (and free what it imported) when no more runs follow in this process
    (`dev` before it serves the UI, `process` once its workers are done). Killed rather than
    asked: it holds nothing to clean up (no instance, connection or file of ours; its workers have
    exited), and asked it would first finish importing (when no worker was needed after all) and
    then tear down its interpreter while keeping the command's output open, seconds either way.
    Best effort: Python has no public call for it."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stop = getattr(server, "_stop", None)
    if stop is not None:
        stop()  # reaps it and forgets it: the next worker_context() starts a new one
