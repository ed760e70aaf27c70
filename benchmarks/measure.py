"""Measuring a command as a user runs it: wall time from its start to its exit, its CPU time and peak RSS.

Each measured thing runs in a process of its own, so its peak RSS is its own. `os.wait4` gives the rusage
of that one child (user + system CPU, and the peak RSS of the largest process in its tree), where
`RUSAGE_CHILDREN` would sum every child a process has waited for. Run as a program, this module is the
launcher that starts the measured commands.
"""

from __future__ import annotations

__all__ = ["PHASE_TIMEOUT", "Measured", "outreach_command", "phase", "run_timed", "run_together"]

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class _Timeout:
    """How long one measured command may run (None: as long as it takes); `--phase-timeout` sets it."""

    seconds: float | None = None


PHASE_TIMEOUT = _Timeout()


@dataclass(frozen=True)
class Measured:
    """One run of one or more processes started together: seconds from the start to the last exit, their
    CPU seconds summed, the largest peak RSS of any of them (MB), and the last one's standard output."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    processes: int = 1
    stdout: str = ""

    def figures(self, count: int, unit: str) -> dict[str, Any]:
        """The figures a report shows: rate and CPU per unit for `count` units (messages or rows)."""
        figures = asdict(self)
        del figures["stdout"]
        return {
            **figures,
            "count": count,
            "unit": unit,
            "rate": count / self.wall_s if self.wall_s else 0.0,
            "cpu_us_per_unit": self.cpu_s * 1e6 / count if count else 0.0,
        }


class CommandFailed(SystemExit):
    """A measured command exited with an error: the benchmark stops and shows its output."""


def outreach_command() -> str:
    """The `outreach` script of this interpreter's environment, as `pip install` put it there."""
    beside = Path(sys.executable).parent / "outreach"
    found = str(beside) if beside.exists() else shutil.which("outreach")
    if found is None:
        raise SystemExit("the `outreach` command is not installed (run `make bench`, which installs it)")
    return found


def run_timed(command: Sequence[str], environment: Mapping[str, str]) -> Measured:
    """Run one command and measure it."""
    return run_together([command], environment)


def run_together(commands: Sequence[Sequence[str]], environment: Mapping[str, str]) -> Measured:
    """Start the commands at once and wait for all: wall to the last exit, CPU summed, the largest RSS.

    A small launcher process starts them (this module run as a program): a process started from this one
    would inherit its high-water RSS, which `exec` carries over into ru_maxrss.
    """
    with tempfile.TemporaryDirectory(prefix="outreach-bench-out-") as folder:
        launcher = [sys.executable, "-m", "benchmarks.measure", folder, json.dumps(list(map(list, commands)))]
        code, answer, errors = _wait(launcher, environment)
        if code != 0:
            raise CommandFailed(errors[-4000:] or f"the launcher exited {code}")
        output = (Path(folder) / f"{len(commands) - 1}.out").read_text()
        return Measured(**json.loads(answer), processes=len(commands), stdout=output)


def _wait(launcher: list[str], environment: Mapping[str, str]) -> tuple[int, str, str]:
    """Run the launcher in a process group of its own, which goes with it if this run stops or times out."""
    process = subprocess.Popen(
        launcher,
        env=dict(environment),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        answer, errors = process.communicate(timeout=PHASE_TIMEOUT.seconds)
    except BaseException as stopped:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if isinstance(stopped, subprocess.TimeoutExpired):
            raise CommandFailed(f"{launcher[-1]} did not finish in {PHASE_TIMEOUT.seconds} s") from None
        raise
    return process.returncode, answer, errors


def _launch(folder: Path, commands: list[list[str]]) -> dict[str, float]:
    """In the launcher: start every command, wait for each with wait4 (its own rusage), say what they took."""
    started = time.perf_counter()
    processes = []
    for index, command in enumerate(commands):
        with (folder / f"{index}.out").open("wb") as out, (folder / f"{index}.err").open("wb") as err:
            processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err))
    cpu, peak, failed = 0.0, 0.0, []
    for index, process in enumerate(processes):
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        peak = max(peak, usage.ru_maxrss / 1024)
        if process.returncode != 0:
            errors = (folder / f"{index}.err").read_text(errors="replace")[-4000:]
            failed.append(f"{' '.join(commands[index])} exited {process.returncode}:\n{errors}")
    if failed:
        raise SystemExit("\n".join(failed))
    return {"wall_s": time.perf_counter() - started, "cpu_s": cpu, "peak_rss_mb": peak}


def phase(name: str, count: int, environment: Mapping[str, str]) -> dict[str, Any]:
    """Run one of benchmarks/phases.py in a process of its own; its answer (the last line, JSON)."""
    measured = run_timed([sys.executable, "-m", "benchmarks.phases", name, str(count)], environment)
    answer: dict[str, Any] = json.loads(measured.stdout.strip().splitlines()[-1])
    return answer


if __name__ == "__main__":
    print(json.dumps(_launch(Path(sys.argv[1]), json.loads(sys.argv[2]))))
