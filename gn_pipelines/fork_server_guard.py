"""Imported first by the workers' fork server (`worker_server.WORKER_PRELOAD`), and only there:
the fork server ends with the command that started it, and tells its workers its pid."""

import os

from gn_pipelines.worker_server import COMMAND_PID, FORK_SERVER_PID, die_with_parent

die_with_parent(COMMAND_PID)
os.environ[FORK_SERVER_PID] = str(os.getpid())
