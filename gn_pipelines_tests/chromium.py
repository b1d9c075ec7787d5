"""Headless Chromium (Debian's package) driven over the DevTools protocol: load a page, record
every request it makes, and evaluate JavaScript in it."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*")


@dataclass
class PageVisit:
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    failed: list[str] = field(default_factory=list)


class DevTools:
    def __init__(self, socket):
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        message_id = next(self.ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.socket.recv(timeout=remaining)))

    def visit(self, url: str, settle_expression: str, timeout: float = 60) -> tuple[PageVisit, "Page"]:
        """Open `url` in a new tab and wait until `settle_expression` is true (bounded)."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Network.enable", session=session)
        self.call("Page.enable", session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        page = Page(self, session)
        deadline = time.monotonic() + timeout
        while not page.evaluate(settle_expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: {settle_expression} not true within {timeout} s")
            time.sleep(0.2)
        visit = PageVisit()
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            if event.get("method") == "Network.requestWillBeSent":
                visit.requests.append(event["params"]["request"]["url"])
            elif event.get("method") == "Network.loadingFailed":
                visit.failed.append(event["params"].get("errorText", ""))
        return visit, page


@dataclass
class Page:
    devtools: DevTools
    session: str

    def evaluate(self, expression: str):
        result = self.devtools.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                    session=self.session)
        return result.get("result", {}).get("value")


@contextmanager
def chromium(user_data_dir: Path, timeout: float = 60) -> Iterator[DevTools]:
    """A headless Chromium with a DevTools connection to its browser target."""
    from websockets.sync.client import connect

    user_data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = user_data_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (active.is_file() and len(active.read_text().splitlines()) >= 2):
            assert process.poll() is None, f"chromium exited {process.returncode}"
            assert time.monotonic() < deadline, f"chromium did not open DevTools within {timeout} s"
            time.sleep(0.1)
        port, path = active.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=timeout) as socket:
            yield DevTools(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
