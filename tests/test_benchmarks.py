"""`make bench` at a tiny size: one run of the harness reports every figure (not their values)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SINK = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink" if Path("/usr/sbin/smtp-sink").exists() else None)
pytestmark = pytest.mark.skipif(SINK is None, reason="benchmark skipped: no smtp-sink (Postfix)")

FIGURES = {"count", "unit", "wall_s", "rate", "cpu_s", "cpu_us_per_unit", "peak_rss_mb"}
SQLITE_PHASES = {"import", "enqueue", "end_to_end", "worker", "naive"}


def _run_bench(folder: Path) -> tuple[dict[str, Any], str]:
    command = [sys.executable, "-m", "benchmarks", "--subscribers", "200", "--sessions", "4,10"]
    command += ["--ceiling-messages", "200", "--naive-sample", "5", "--alerts", "20", "--no-postgres"]
    run = subprocess.Popen(
        [*command, "--results", str(folder), "--phase-timeout", "60"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = run.communicate(timeout=100)
    except subprocess.TimeoutExpired:
        run.terminate()  # the harness stops its phases and the sink on TERM
        out, err = run.communicate()
    assert run.returncode == 0, out[-2000:] + err[-4000:]
    (written,) = folder.glob("*.json")
    return json.loads(written.read_text()), written.with_suffix(".md").read_text()


def test_a_tiny_run_reports_every_figure(tmp_path: Path) -> None:
    results, table = _run_bench(tmp_path)

    machine = results["machine"]
    assert {"date", "cpu", "cores", "python", "sqlite", "commit"} <= machine.keys()
    assert results["startup"].keys() >= FIGURES
    (size,) = results["sizes"]
    assert size["subscribers"] == 200
    assert size["message_bytes"] > 0
    assert [run["sessions"] for run in size["smtp_source"]["runs"]] == [4, 10]
    assert FIGURES | {"sessions"} <= size["smtp_source"]["best"].keys()
    assert size["sqlite"].keys() == SQLITE_PHASES
    for figures in size["sqlite"].values():
        assert figures.keys() >= FIGURES
    assert size["sqlite"]["end_to_end"]["count"] == 200  # every subscriber was sent the issue
    assert size["sqlite"]["import"]["count"] == 200
    assert "postgresql" not in size
    assert {"sent", "entry_to_last_accepted_s", "command_wall_s"} <= results["alerts"].keys()

    assert machine["cpu"] in table
    assert "÷ smtp-source best" in table
    rows = ("smtp-source, 10 sessions", "roster import", "enqueue", "end to end", "worker alone", "naive")
    for label in rows:
        assert label in table
    assert "Alert latency" in table
