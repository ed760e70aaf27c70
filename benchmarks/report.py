"""The report: the machine it ran on, one table per size, and the files in benchmarks/results/.

A table's columns: `count` is what the row did (messages sent, or rows imported or queued); `wall s` runs
from the command's start to its exit (for the worker alone and the naive way, from the first message to the
last, in the process); `rate /s` is count over wall; `CPU µs per unit` is user + system CPU of the process
(both, for two workers) over count; `peak RSS` is the process's largest resident set; `÷ smtp-source best`
is the row's rate over the fastest smtp-source run into the same sink in the same run.
"""

from __future__ import annotations

__all__ = ["machine", "table", "write"]

import json
import os
import platform
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent

# (key in a backend's results, what the row says): the order of the table.
_ROWS = {
    "sqlite": [
        ("import", "roster import (`subscribers import --consent vouched`)"),
        ("enqueue", "enqueue (`issue send N --detach`)"),
        ("end_to_end", "**end to end** (`issue send N --yes`)"),
        ("worker", "the worker alone (in one process)"),
        ("naive", "the naive way (render per recipient, one connection)"),
    ],
    "postgresql": [
        ("import", "roster import (`subscribers import --consent vouched`)"),
        ("enqueue", "enqueue (`issue send N --detach`)"),
        ("workers_1", "1 × `worker --once`"),
        ("workers_2", "2 × `worker --once` (peak RSS: the larger)"),
    ],
}
_HEADER = (
    "| backend | what | count | wall s | rate /s | CPU µs per unit | peak RSS | ÷ smtp-source best |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    models = [line.partition(":")[2].strip() for line in lines if line.startswith("model name")]
    return models[0] if models else platform.machine()


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _commit() -> str:
    def git(*arguments: str) -> str:
        result = subprocess.run(
            ["git", *arguments], cwd=_ROOT, capture_output=True, text=True, check=False, timeout=10
        )
        return result.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} (with local changes)" if git("status", "--porcelain", "--untracked-files=no") else head


def machine(*, postgres_version: str | None, started: datetime) -> dict[str, Any]:
    """Where and when: the date, the CPU and its cores, memory, the software the figures depend on."""
    return {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(_memory_gb(), 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "commit": _commit(),
    }


def _ratio(ratio: float) -> str:
    return f"{ratio:.0%}" if ratio >= 0.1 else f"{ratio:.1%}"


def _row(backend: str, what: str, figures: dict[str, Any], ceiling: float | None) -> str:
    cells = [
        backend,
        what,
        f"{figures['count']:,} {figures['unit']}",
        f"{figures['wall_s']:,.1f}",
        f"{figures['rate']:,.0f} {figures['unit']}/s",
        f"{figures['cpu_us_per_unit']:,.0f}",
        f"{figures['peak_rss_mb']:,.0f} MB",
        _ratio(figures["rate"] / ceiling) if ceiling else "",
    ]
    return "| " + " | ".join(cells) + " |"


def _size_table(size: dict[str, Any]) -> list[str]:
    ceiling = size["smtp_source"]["best"]
    lines = [
        f"\n### {size['subscribers']:,} subscribers, a message of {size['message_bytes'] / 1024:.1f} KB\n",
        _HEADER,
    ]
    for run in size["smtp_source"]["runs"]:
        best = " (best)" if run == ceiling else ""
        lines.append(_row("—", f"smtp-source, {run['sessions']} sessions{best}", run, ceiling["rate"]))
    for backend, rows in _ROWS.items():
        results = size.get(backend)
        if results is None:
            continue
        for key, what in rows:
            ratio = ceiling["rate"] if results[key]["unit"] == "msg" else None
            lines.append(_row(backend, what, results[key], ratio))
    sqlite = size["sqlite"]
    lines.append(
        f"\nOutreach end to end sends {sqlite['end_to_end']['rate'] / sqlite['naive']['rate']:,.0f} times "
        "as many messages a second as the naive way."
    )
    return lines


def _growth(sizes: list[dict[str, Any]]) -> str:
    first, last = sizes[0], sizes[-1]

    def grew(key: str) -> str:
        before, after = first["sqlite"][key]["peak_rss_mb"], last["sqlite"][key]["peak_rss_mb"]
        return f"{after / before - 1:+.0%}"

    return (
        f"\nPeak RSS from {first['subscribers']:,} to {last['subscribers']:,} subscribers (SQLite): "
        f"end to end {grew('end_to_end')}, the worker alone {grew('worker')}, the import {grew('import')}."
    )


def _alert_line(latency: dict[str, Any]) -> str:
    sent, matching, others = latency["sent"], latency["matching"], latency["others"]
    return (
        f"\nAlert latency (SQLite): {sent:,} of {matching:,} matching subscribers ({others:,} others got "
        f"nothing) accepted {latency['entry_to_last_accepted_s']:.1f} s after the poll stored the entry; "
        f"`outreach alerts poll` ran {latency['command_wall_s']:.1f} s in all."
    )


def table(results: dict[str, Any]) -> str:
    """The Markdown report of a run."""
    where, startup = results["machine"], results["startup"]
    lines = [
        f"Run on {where['date']}: {where['cpu']}, {where['cores']} cores, {where['memory_gb']} GB; "
        f"{where['system']}; Python {where['python']}, SQLite {where['sqlite']}, "
        f"PostgreSQL {where['postgresql'] or '(not run)'}; outreach {where['commit']}, "
        f"{results['connections']} SMTP connections per process, into Postfix's smtp-sink.",
        f"Before any work, `outreach --help` takes {startup['wall_s']:.1f} s, "
        f"{startup['cpu_s']:.1f} s of CPU and {startup['peak_rss_mb']:.0f} MB.",
    ]
    if results.get("postgresql_note"):
        lines.append(f"\n{results['postgresql_note']}")
    for size in results["sizes"]:
        lines += _size_table(size)
    if len(results["sizes"]) > 1:
        lines.append(_growth(results["sizes"]))
    if results.get("alerts"):
        lines.append(_alert_line(results["alerts"]))
    return "\n".join(lines)


def write(results: dict[str, Any], text: str, folder: Path, *, stamp: str) -> Path:
    """The JSON (every figure, every smtp-source run) and the Markdown table, named by the run's time."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stamp}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (folder / f"{stamp}.md").write_text(text + "\n")
    return folder / stamp
