"""The benchmark: smtp-sink as the server; smtp-source, outreach as staff run it, the worker alone and the
naive way as clients; the roster import and the enqueue; SQLite, and PostgreSQL with one and two workers.

Every measured phase runs in a process of its own, from a copy of one database built per size; the report
goes to standard output and to benchmarks/results/ (see benchmarks/report.py for the table's columns).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import PHASE_TIMEOUT, outreach_command, phase, run_timed
from benchmarks.report import machine, table, write
from benchmarks.sink import Sink, best_smtp_source
from benchmarks.stores import PostgresStore, SqliteStore, Store, open_postgres
from benchmarks.suite import Context, environment, measure_backend
from outreach.config import load_settings

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _counts(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--subscribers", type=_counts, default=[100_000], help="sizes, e.g. 100000,1000000")
    parser.add_argument("--sessions", type=_counts, default=[4, 10, 20], help="smtp-source session counts")
    parser.add_argument("--ceiling-messages", type=int, default=100_000, help="smtp-source's most messages")
    parser.add_argument("--connections", type=int, help="SMTP connections per outreach process")
    parser.add_argument("--naive-sample", type=int, default=300, help="recipients the naive way sends")
    parser.add_argument("--import-rows", type=int, help="rows of the roster imported (default: the size)")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="a role that may create databases")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--alerts", type=int, default=10_000, help="subscribers of the alert run (0: none)")
    parser.add_argument("--phase-timeout", type=float, help="seconds a phase may take (default: no limit)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the report is written")
    return parser.parse_args()


def _build_base(store: Store, context: Context) -> None:
    """The migrated, seeded database every size starts from."""
    phase("base", 0, environment(context, store.make("base"), f"{store.backend}-base"))


def _size(count: int, stores: list[Store], context: Context, args: argparse.Namespace) -> dict[str, Any]:
    print(f"-- {count:,} subscribers", flush=True)
    sample = environment(context, stores[0].make("sample", like="base"), "sample")
    phase("fill", 1, sample)
    size = phase("sample_message", 0, sample)["bytes"]
    stores[0].drop("sample")
    results: dict[str, Any] = {
        "subscribers": count,
        "message_bytes": size,
        "smtp_source": best_smtp_source(
            context.smtp_port, messages=min(count, args.ceiling_messages), size=size, sessions=args.sessions
        ),
    }
    for store in stores:
        results[store.backend] = measure_backend(store, context, count)
    return results


def _connections(context: Context) -> int:
    """The SMTP connections each outreach process opens: --connections, or outreach's own default."""
    return load_settings(environment(context, "sqlite://", "settings"), env_file=None).delivery.connections


def _startup(context: Context) -> dict[str, Any]:
    """What the command costs before it does anything: every command pays it, a short one mostly that."""
    measured = run_timed([outreach_command(), "--help"], environment(context, "sqlite://", "help"))
    return measured.figures(1, "run")


def _alerts(count: int, context: Context) -> dict[str, Any]:
    """The alert latency run, in an SQLite database of its own."""
    from benchmarks.alerts import alert_latency

    print(f"-- an alert for {count:,} subscribers: polling a feed file, OUTREACH_ALERTS=auto", flush=True)
    url = f"sqlite:///{context.folder / 'alerts.sqlite3'}"
    return alert_latency(count, environment(context, url, "alerts"), context.folder)


def _run(args: argparse.Namespace, sink: Sink, folder: Path) -> dict[str, Any]:
    context = Context(sink.port, folder, args.connections, args.naive_sample, args.import_rows)
    postgres, note = (None, "") if args.no_postgres else open_postgres(args.postgres_url)
    stores: list[Store] = [SqliteStore(folder), *([postgres] if postgres else [])]
    results: dict[str, Any] = {
        "machine": machine(
            postgres_version=postgres.version() if isinstance(postgres, PostgresStore) else None,
            started=datetime.now(UTC),
        ),
        "connections": _connections(context),
        "postgresql_note": note,
        "startup": _startup(context),
    }
    if note:
        print(note, flush=True)
    try:
        for store in stores:
            _build_base(store, context)
        results["sizes"] = [_size(count, stores, context, args) for count in args.subscribers]
    finally:
        for store in stores:
            store.close()
    results["alerts"] = _alerts(args.alerts, context) if args.alerts else None
    return results


def main() -> None:
    args = _arguments()
    PHASE_TIMEOUT.seconds = args.phase_timeout
    # A TERM unwinds like Ctrl-C: the phase's processes, the databases and the sink go with the run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    sink = Sink()
    try:
        with tempfile.TemporaryDirectory(prefix="outreach-bench-") as folder:
            results = _run(args, sink, Path(folder))
    finally:
        sink.stop()
    text = table(results)
    print("\n" + text)
    written = write(results, text, args.results, stamp=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    print(f"\nwritten to {written}.json and .md")


if __name__ == "__main__":
    main()
