"""What one size measures on one backend, each phase from a copy of the same database.

SQLite: the roster import, the enqueue (`issue send N --detach`), the whole send as staff run it
(`issue send N --yes`), the worker alone and the naive way. PostgreSQL: the import, the enqueue, and the
started send delivered by one and by two `outreach worker --once` processes.
"""

from __future__ import annotations

__all__ = ["Context", "environment", "measure_backend", "roster_csv"]

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import Measured, outreach_command, phase, run_timed, run_together
from benchmarks.phases import ISSUE_NUMBER
from benchmarks.stores import Store

_ROOT = Path(__file__).resolve().parent.parent
_COUNTRIES = ("タイ", "ベトナム;インドネシア", "Singapore", "")  # Japanese, English, several, none


@dataclass(frozen=True)
class Context:
    """What every phase of a run shares: the relay, the folder, the options."""

    smtp_port: int
    folder: Path
    connections: int | None
    naive_sample: int
    import_rows: int | None


def environment(context: Context, database_url: str, run: str) -> dict[str, str]:
    """A phase's settings: its database and folder, the sink as relay, no sign-off needed to send."""
    values = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])),
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_VAR_DIR": str(context.folder / f"var-{run}"),
        "OUTREACH_SMTP_URL": f"smtp://127.0.0.1:{context.smtp_port}",
        "OUTREACH_SECRET_KEY": "benchmark-secret-key-long-enough-for-the-guard",
        "OUTREACH_BASE_URL": "https://mailmag.example.jp",
        "OUTREACH_FROM": "mailmag@example.jp",
        "OUTREACH_APPROVAL": "none",
    }
    if context.connections:
        values["OUTREACH_SMTP_CONNECTIONS"] = str(context.connections)
    return values


def roster_csv(path: Path, rows: int) -> Path:
    """A roster as organizations send them: a header, then addresses, companies, names and countries."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,company,name,countries\n")
        for index in range(rows):
            countries = _COUNTRIES[index % len(_COUNTRIES)]
            address = f"Roster{index:07d}@Import.Example.jp"  # normalised on import
            out.write(f"{address},株式会社名簿{index % 991},名簿 花子,{countries}\n")
    return path


def _cli(*arguments: str) -> list[str]:
    return [outreach_command(), *arguments]


def _send_figures(measured: Measured, tally: Mapping[str, int], *, label: str) -> dict[str, Any]:
    """A send's figures over the messages it sent; refused unless it sent every row of the ledger."""
    sent = tally.get("sent", 0)
    if sent != sum(tally.values()):
        raise SystemExit(f"{label}: not every recipient was sent the issue: {dict(tally)}")
    return measured.figures(sent, "msg")


class _Backend:
    """One size on one backend: the database built once (`template`), then a copy for each phase."""

    def __init__(self, store: Store, context: Context, count: int) -> None:
        self.store, self.context, self.count = store, context, count
        self.template = f"n{count}"

    def env(self, url: str, run: str) -> dict[str, str]:
        return environment(self.context, url, f"{self.store.backend}-{run}")

    def build(self) -> None:
        url = self.store.make(self.template, like="base")
        phase("fill", self.count, self.env(url, "fill"))

    def roster_import(self) -> dict[str, Any]:
        rows = self.context.import_rows or self.count
        csv = roster_csv(self.context.folder / f"roster-{rows}.csv", rows)
        url = self.store.make("import", like="base")
        command = _cli("subscribers", "import", str(csv), "--org", "jetro", "--consent", "vouched")
        measured = run_timed(command, self.env(url, "import"))
        self.store.drop("import")
        return measured.figures(rows, "rows")

    def enqueue(self) -> dict[str, Any]:
        """`issue send N --detach`: the ledger written, nothing sent; leaves `started` for the workers."""
        url = self.store.make("started", like=self.template)
        command = _cli("issue", "send", str(ISSUE_NUMBER), "--detach", "--yes")
        measured = run_timed(command, self.env(url, "enqueue"))
        queued = sum(phase("tally", 0, self.env(url, "tally")).values())
        return measured.figures(queued, "rows")

    def end_to_end(self) -> dict[str, Any]:
        url = self.store.make("e2e", like=self.template)
        environment = self.env(url, "e2e")
        command = _cli("issue", "send", str(ISSUE_NUMBER), "--yes", "--no-progress")
        measured = run_timed(command, environment)
        tally = phase("tally", 0, environment)
        self.store.drop("e2e")
        return _send_figures(measured, tally, label="issue send")

    def worker_alone(self) -> dict[str, Any]:
        url = self.store.make("engine", like="started")
        figures = phase("engine", self.count, self.env(url, "engine"))
        self.store.drop("engine")
        return figures

    def naive(self) -> dict[str, Any]:
        url = self.store.make("naive", like=self.template)
        figures = phase("naive", min(self.count, self.context.naive_sample), self.env(url, "naive"))
        self.store.drop("naive")
        return figures

    def workers(self, processes: int) -> dict[str, Any]:
        """`outreach worker --once` in `processes` processes at once on the started send, until it is sent."""
        name = f"workers{processes}"
        url = self.store.make(name, like="started")
        environment = self.env(url, name)
        commands = [_cli("worker", "--once", "--name", f"bench-{index}") for index in range(processes)]
        measured = run_together(commands, environment)
        tally = phase("tally", 0, environment)
        self.store.drop(name)
        return _send_figures(measured, tally, label=f"{processes} workers")


def measure_backend(store: Store, context: Context, count: int) -> dict[str, Any]:
    """Every phase of one size on one backend, in the order the report shows them."""
    backend = _Backend(store, context, count)
    say = _announcer(store.backend, count)
    say("building the database")
    backend.build()
    say("roster import")
    results: dict[str, Any] = {"import": backend.roster_import()}
    say("enqueue (issue send --detach)")
    results["enqueue"] = backend.enqueue()
    if store.backend == "sqlite":
        say("end to end (issue send --yes)")
        results["end_to_end"] = backend.end_to_end()
        say("the worker alone")
        results["worker"] = backend.worker_alone()
        say("the naive way")
        results["naive"] = backend.naive()
    else:
        for processes in (1, 2):
            say(f"{processes} worker process(es)")
            results[f"workers_{processes}"] = backend.workers(processes)
    store.drop("started")
    store.drop(backend.template)
    return results


def _announcer(backend: str, count: int) -> Callable[[str], None]:
    def say(what: str) -> None:
        print(f"   {backend}, {count:,}: {what}", flush=True)

    return say
