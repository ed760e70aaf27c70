"""Postfix's smtp-sink as the server every client sends to, and smtp-source as the machine's ceiling."""

from __future__ import annotations

__all__ = ["Sink", "best_smtp_source", "require"]

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import run_timed


def require(tool: str) -> str:
    """The path of one of Postfix's test tools (Debian puts them in /usr/sbin, often not on PATH)."""
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        raise SystemExit(f"{tool} is missing: `make bench` installs Debian's postfix package for it")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """smtp-sink on 127.0.0.1: accepts every message (with PIPELINING) and throws it away."""

    def __init__(self) -> None:
        self.port = _free_port()
        command = [require("smtp-sink")]
        if os.geteuid() == 0:
            command += ["-u", "nobody"]
        self.process = subprocess.Popen([*command, f"127.0.0.1:{self.port}", "1000"], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("smtp-sink did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _smtp_source(port: int, *, messages: int, size: int, sessions: int) -> dict[str, Any]:
    command = [
        require("smtp-source"),
        *("-s", str(sessions), "-l", str(size), "-m", str(messages)),
        *("-f", "bench@example.jp", "-t", "sink@example.jp"),
        f"127.0.0.1:{port}",
    ]
    return {"sessions": sessions, **run_timed(command, os.environ).figures(messages, "msg")}


def best_smtp_source(port: int, *, messages: int, size: int, sessions: list[int]) -> dict[str, Any]:
    """smtp-source with each session count in turn: every run, and the fastest as `best`."""
    runs = []
    for count in sessions:
        print(f"   smtp-source, {count} sessions", flush=True)
        runs.append(_smtp_source(port, messages=messages, size=size, sessions=count))
    return {"runs": runs, "best": max(runs, key=lambda run: float(run["rate"]))}
