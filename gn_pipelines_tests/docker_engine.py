"""A Docker engine for the container test, and the code-location image built from this machine.

No registry: the image is a root file system assembled from the Python running the tests, the
installed distributions a collection run imports, the shared libraries they link (found by
`ldd`) and this checkout's `gn_pipelines`, loaded with `docker import`. An engine already
answering is used as it is; otherwise `dockerd` is started in a temporary directory (overlay2
storage, or vfs where overlays cannot be made; host networking only) and stopped, with its
files, at the end. A watchdog kills the engine when its own processes grow past a memory bound
(a vfs engine fed an image of whole host directories once grew to 22 GB here and froze the
machine). Where Docker cannot start, the test is skipped with the reason.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest

ENGINE_MEMORY_LIMIT = 3 * 1024**3
ENGINE_PROCESS_NAMES = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2")
START_TIMEOUT = 60.0

# Installed distributions a collection run does not import (the chart, the keyword statistics,
# the PostgreSQL warehouse loader, the web server and API, the test tools): the run's image
# leaves them out. The deployment's full image is deploy/Dockerfile.
NOT_NEEDED_BY_A_RUN = frozenset({
    "adbc-driver-manager", "adbc-driver-postgresql", "contourpy", "cycler", "dagster-webserver",
    "execnet", "faker", "fastapi", "fonttools", "httptools", "iniconfig", "kiwipiepy", "kiwipiepy-model",
    "kiwisolver", "koreanize-matplotlib", "matplotlib", "pillow", "pip", "pluggy", "pycanon", "pyflakes",
    "pyproj", "pytest", "pytest-timeout", "pytest-xdist", "starlette", "swagger-ui-bundle", "uvicorn",
    "uvloop", "watchfiles", "websockets",
})
# Standard library parts no run imports.
STDLIB_LEFT_OUT = frozenset({"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                             "site-packages", "pydoc_data", "__phello__"})
IMAGE_PREFIX = "/usr/local"


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


# Files of included distributions no run opens: C headers and Cython sources, and the parts of
# pyarrow for Arrow Flight and S3 (pyarrow imports them only when asked for).
LEFT_OUT_SUFFIXES = (".h", ".hpp", ".pxd", ".pyx", ".pxi", ".a", ".cc")
LEFT_OUT_NAME_PARTS = ("arrow_flight", "_flight.", "arrow_s3", "_s3fs.", "_tkinter.")


def _never_in_image(parts: tuple[str, ...]) -> bool:
    """Tests, sources and bytecode of other optimisation levels stay out of the image."""
    name = parts[-1]
    return ("tests" in parts or "include" in parts or (name.endswith(".pyc") and ".opt-" in name)
            or name.endswith(LEFT_OUT_SUFFIXES) or any(part in name for part in LEFT_OUT_NAME_PARTS))


@dataclass
class RootFileSystem:
    """Files of the image: where each comes from on this machine, and where it goes."""

    files: dict[str, Path] = field(default_factory=dict)  # image path → host file
    scripts: dict[str, str] = field(default_factory=dict)  # image path → text

    def add_tree(self, source: Path, target: str, *, leave_out=lambda relative: False) -> None:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.is_dir() or leave_out(relative.parts) or _never_in_image(relative.parts):
                continue
            self.files[f"{target}/{relative.as_posix()}"] = path

    def size(self) -> int:
        return (sum(path.stat().st_size for path in self.files.values())
                + sum(len(text) for text in self.scripts.values()))

    def write_tar(self, destination: Path) -> None:
        directories = {"/tmp", "/root", "/etc"}
        for image_path in [*self.files, *self.scripts]:
            parent = Path(image_path).parent
            while str(parent) != "/":
                directories.add(str(parent))
                parent = parent.parent
        with tarfile.open(destination, "w") as archive:
            for directory in sorted(directories):
                info = tarfile.TarInfo(directory.lstrip("/"))
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if directory == "/tmp" else 0o755
                archive.addfile(info)
            for image_path, source in sorted(self.files.items()):
                info = archive.gettarinfo(str(source.resolve()), image_path.lstrip("/"))
                with source.open("rb") as handle:
                    archive.addfile(info, handle)
            for image_path, text in sorted(self.scripts.items()):
                data = text.encode()
                info = tarfile.TarInfo(image_path.lstrip("/"))
                info.size, info.mode = len(data), 0o755 if "/bin/" in image_path else 0o644
                archive.addfile(info, io.BytesIO(data))


def _linked_libraries(binaries: list[Path]) -> dict[str, Path]:
    """The shared libraries outside the image's own trees these binaries load (ldd)."""
    found: dict[str, Path] = {}
    for start in range(0, len(binaries), 200):
        result = subprocess.run(["ldd", *map(str, binaries[start:start + 200])],
                                capture_output=True, text=True)
        for line in result.stdout.splitlines():
            line = line.strip()
            path = line.split("=>")[1].split("(")[0].strip() if "=>" in line else line.split(" (")[0]
            if path.startswith("/"):
                found[path] = Path(path)
    return found


def code_location_root_fs(repository: Path) -> RootFileSystem:
    """Python (binary, standard library), the distributions a run needs, the libraries they link,
    `gn_pipelines` of `repository`, and console scripts for `dagster` and `gn-pipelines`."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    image_lib = f"{IMAGE_PREFIX}/lib/{version}"
    image_python = f"{IMAGE_PREFIX}/bin/{version}"
    root = RootFileSystem()
    base_python = Path(sys._base_executable).resolve()
    root.files[image_python] = base_python
    root.add_tree(Path(sysconfig.get_paths(vars={"base": sys.base_prefix})["stdlib"]), image_lib,
                  leave_out=lambda parts: parts[0] in STDLIB_LEFT_OUT or parts[0].startswith("config-"))
    site_packages = Path(sysconfig.get_paths()["purelib"])
    seen: set[str] = set()
    for distribution in metadata.distributions(path=[str(site_packages)]):
        name = _normalise(distribution.metadata["Name"])
        if name in seen or name in NOT_NEEDED_BY_A_RUN:
            continue
        seen.add(name)
        for file in distribution.files or []:
            source = Path(distribution.locate_file(file))
            if (file.parts[0] == ".." or file.name.startswith("__editable__") or not source.is_file()
                    or _never_in_image(file.parts)):
                continue  # console scripts (rewritten below) and the editable install's finder
            root.files[f"{image_lib}/site-packages/{file.as_posix()}"] = source
        for entry in distribution.entry_points.select(group="console_scripts"):
            if entry.name in ("dagster", "dagster-daemon", "gn-pipelines"):
                module, function = entry.value.split(":")
                # pip's script: the guard keeps spawned step processes from running the command again
                root.scripts[f"{IMAGE_PREFIX}/bin/{entry.name}"] = (
                    f"#!{image_python}\nimport sys\nfrom {module} import {function}\n"
                    f"if __name__ == '__main__':\n    sys.exit({function}())\n")
    root.add_tree(repository / "gn_pipelines", f"{image_lib}/site-packages/gn_pipelines",
                  leave_out=lambda parts: "__pycache__" in parts)
    binaries = [base_python, *(path for path in root.files.values() if ".so" in path.name)]
    for library in _linked_libraries(binaries).values():
        if not str(library.resolve()).startswith((sys.base_prefix, str(site_packages))):
            root.files[str(library)] = library.resolve()
    # the interpreter's own library, found through its RUNPATH on this machine: put where the
    # loader looks by default
    library = Path(sys.base_prefix, "lib", sysconfig.get_config_var("INSTSONAME"))
    if library.is_file():
        root.files[f"/usr/lib/{library.name}"] = library.resolve()
    root.scripts["/etc/passwd"] = "root:x:0:0:root:/root:/bin/false\n"
    root.scripts["/etc/group"] = "root:x:0:\n"
    return root


IMAGE_ENV = {"PATH": f"{IMAGE_PREFIX}/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/root",
             "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass
class BuiltImage:
    tag: str
    size_bytes: int
    build_seconds: float


def build_code_location_image(client, repository: Path, tag: str, scratch: Path) -> BuiltImage:
    """Assemble the root file system, and `docker import` it as `tag`."""
    started = time.monotonic()
    root = code_location_root_fs(repository)
    archive = scratch / "rootfs.tar"
    root.write_tar(archive)
    try:
        changes = [f"ENV {name}={value}" for name, value in IMAGE_ENV.items()] + ["WORKDIR /tmp"]
        client.api.import_image_from_file(str(archive), repository=tag.split(":")[0],
                                          tag=tag.split(":")[1], changes=changes)
    finally:
        archive.unlink()
    image = client.images.get(tag)
    return BuiltImage(tag, image.attrs["Size"], time.monotonic() - started)


def _process_table() -> dict[int, tuple[int, str, int]]:
    """pid → (parent pid, command name, resident bytes), from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        table[int(entry.name)] = (int(fields["PPid"]), fields["Name"].strip(), rss)
    return table


def engine_resident_bytes(engine_pid: int) -> int:
    """Memory held by the engine's own processes (dockerd, containerd, shims; not the containers)."""
    table = _process_table()
    family, frontier = {engine_pid}, [engine_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, _) in table.items() if ppid == parent]
        family.update(children)
        frontier.extend(children)
    return sum(rss for pid, (_, name, rss) in table.items()
               if pid in family and name.startswith(ENGINE_PROCESS_NAMES))


@dataclass
class DockerEngine:
    host: str  # DOCKER_HOST for the clients (the test's, the daemon's, the launcher's)
    client: object
    started_here: bool
    storage_driver: str = ""
    peak_resident_bytes: int = 0
    killed_for_memory: str | None = None


def unavailable(reason: str):
    pytest.skip(f"Docker cannot start here: {reason}")


class _Watchdog(threading.Thread):
    """Polls the engine's memory; kills the engine past the bound (the test then fails)."""

    def __init__(self, engine: DockerEngine, pid: int):
        super().__init__(daemon=True)
        self.engine, self.pid, self.stopping = engine, pid, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            resident = engine_resident_bytes(self.pid)
            self.engine.peak_resident_bytes = max(self.engine.peak_resident_bytes, resident)
            if resident > ENGINE_MEMORY_LIMIT:
                self.engine.killed_for_memory = (f"dockerd and containerd held {resident / 1024**3:.1f} GB "
                                                 f"(bound {ENGINE_MEMORY_LIMIT / 1024**3:.0f} GB): killed")
                os.killpg(self.pid, signal.SIGKILL)
                return


def _client(host: str):
    import docker

    client = docker.DockerClient(base_url=host, timeout=300)
    client.ping()
    return client


class _EngineDidNotStart(Exception):
    pass


# overlay2 shares the image's files between containers; vfs (a full copy of the image for each
# container, slow to create and to delete) where the file system cannot hold overlays.
STORAGE_DRIVERS = ("overlay2", "vfs")


def _start_dockerd(dockerd: str, directory: Path, driver: str) -> subprocess.Popen:
    host = f"unix://{directory}/docker.sock"
    with (directory / f"dockerd-{driver}.log").open("w") as log:
        process = subprocess.Popen(
            [dockerd, "--data-root", str(directory / driver), "--exec-root", str(directory / "exec"),
             "--pidfile", str(directory / "dockerd.pid"), "-H", host, f"--storage-driver={driver}",
             "--iptables=false", "--ip-masq=false", "--bridge=none"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return process


def _wait_for(process: subprocess.Popen, host: str, log: Path):
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise _EngineDidNotStart(f"dockerd exited with {process.returncode}: {log.read_text()[-600:]}")
        try:
            return _client(host)
        except Exception:  # noqa: BLE001 (not answering yet)
            if time.monotonic() > deadline:
                raise _EngineDidNotStart(f"dockerd did not answer within {START_TIMEOUT:.0f} s: "
                                         f"{log.read_text()[-600:]}")
            time.sleep(0.5)  # bounded by the deadline above


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def docker_engine():
    """A Docker engine answering on DOCKER_HOST (or the default socket), else one started here
    in a temporary directory and stopped, with its files, at the end."""
    try:
        import docker  # noqa: F401 (the SDK dagster-docker uses)
    except ImportError:
        unavailable("the Docker SDK is not installed (pip install -e '.[docker]')")
    existing = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = _client(existing)
    except Exception as error:  # noqa: BLE001 (no engine answering: start one)
        client, why = None, f"no engine answers on {existing} ({type(error).__name__})"
    if client is not None:
        yield DockerEngine(existing, client, started_here=False)
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        unavailable(f"{why}, and there is no `dockerd` on PATH (Debian: apt-get install docker.io)")
    if os.geteuid() != 0:
        unavailable(f"{why}, and starting `dockerd` needs root")
    directory = Path(tempfile.mkdtemp(prefix="gn-docker-"))
    host = f"unix://{directory}/docker.sock"
    engine, process, failures = DockerEngine(host, None, started_here=True), None, []
    watchdog = None
    try:
        for driver in STORAGE_DRIVERS:
            process = _start_dockerd(dockerd, directory, driver)
            watchdog = _Watchdog(engine, process.pid)
            watchdog.start()
            try:
                engine.client = _wait_for(process, host, directory / f"dockerd-{driver}.log")
                engine.storage_driver = driver
                break
            except _EngineDidNotStart as error:
                failures.append(f"{driver}: {error}")
                watchdog.stopping.set()
                _stop(process)
        if engine.client is None:
            unavailable("; ".join(failures))
        yield engine
    finally:
        if watchdog is not None:
            watchdog.stopping.set()
        if process is not None:
            _stop(process)
        _unmount_under(directory)
        shutil.rmtree(directory, ignore_errors=True)


def _unmount_under(directory: Path) -> None:
    """What the engine left mounted in its directory (its network namespace, a container's shm)."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(f"{directory}/")), reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True)
