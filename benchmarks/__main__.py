"""The benchmark: smtp-sink as the server; smtp-source, the naive way and the engine as clients."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _require(tool: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        sys.exit(f"{tool} is missing: `make bench` installs Debian's postfix package for it")
    return path


class Sink:
    """Postfix's smtp-sink on 127.0.0.1: accepts every message (with PIPELINING) and throws it away."""

    def __init__(self) -> None:
        self.port = _free_port()
        command = [_require("smtp-sink")]
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


def _phase(name: str, count: int, environment: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.phases", name, str(count)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"phase {name} failed:\n{result.stderr[-4000:]}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def _smtp_source(port: int, *, messages: int, size: int, sessions: int) -> dict[str, Any]:
    started = time.perf_counter()
    subprocess.run(
        [
            _require("smtp-source"),
            "-s",
            str(sessions),
            "-l",
            str(size),
            "-m",
            str(messages),
            "-f",
            "bench@example.jp",
            "-t",
            "sink@example.jp",
            f"127.0.0.1:{port}",
        ],
        check=True,
    )
    seconds = time.perf_counter() - started
    return {"sent": messages, "seconds": seconds, "rate": messages / seconds}


def _environment(args: argparse.Namespace, sink: Sink, folder: Path, run: str) -> dict[str, str]:
    """A run's settings: its own database (SQLite unless --database-url) and folder, the sink as relay."""
    return {
        **os.environ,
        "OUTREACH_DATABASE_URL": args.database_url or f"sqlite:///{folder / f'bench-{run}.sqlite3'}",
        "OUTREACH_VAR_DIR": str(folder / f"var-{run}"),
        "OUTREACH_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "OUTREACH_SMTP_CONNECTIONS": str(args.connections),
        "OUTREACH_SECRET_KEY": "benchmark-secret-key",
        "OUTREACH_BASE_URL": "https://mailmag.example.jp",
        "OUTREACH_FROM": "mailmag@example.jp",
    }


def _run(count: int, args: argparse.Namespace, sink: Sink, folder: Path) -> dict[str, Any]:
    environment = _environment(args, sink, folder, f"{count}")
    print(f"-- {count:,} subscribers: preparing the database", flush=True)
    prepared = _phase("prepare", count, environment)
    size = _phase("sample_message", 0, environment)["bytes"]
    print(
        f"   {prepared['queued']:,} queued in {prepared['seconds']:.1f} s; a message is {size:,} bytes",
        flush=True,
    )
    print("   smtp-source (the ceiling of this machine)", flush=True)
    ceiling = _smtp_source(
        sink.port, messages=min(count, args.ceiling_messages), size=size, sessions=args.connections
    )
    print("   the naive way (per recipient: render, premailer, MIME; one connection)", flush=True)
    naive = _phase("naive", min(count, args.naive_sample), environment)
    print("   outreach's engine", flush=True)
    engine = _phase("engine", count, environment)
    return {
        "subscribers": count,
        "message_bytes": size,
        "connections": args.connections,
        "smtp_source": ceiling,
        "naive": naive,
        "engine": engine,
        "engine_vs_smtp_source": engine["rate"] / ceiling["rate"],
        "engine_vs_naive": engine["rate"] / naive["rate"],
    }


def _report(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| subscribers | message | smtp-source msg/s | naive msg/s | engine msg/s | engine / smtp-source "
        "| engine / naive | engine peak RSS | naive peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        engine, naive, ceiling = run["engine"], run["naive"], run["smtp_source"]
        cells = [
            f"{run['subscribers']:,}",
            f"{run['message_bytes'] / 1024:.1f} KB",
            f"{ceiling['rate']:,.0f}",
            f"{naive['rate']:,.1f}",
            f"{engine['rate']:,.0f}",
            f"{run['engine_vs_smtp_source']:.0%}",
            f"{run['engine_vs_naive']:,.0f}x",
            f"{engine['peak_rss_mb']:.0f} MB",
            f"{naive['peak_rss_mb']:.0f} MB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if len(runs) > 1:
        growth = runs[-1]["engine"]["peak_rss_mb"] / runs[0]["engine"]["peak_rss_mb"] - 1
        first, last = runs[0]["subscribers"], runs[-1]["subscribers"]
        lines.append(f"\nThe engine's peak RSS grew {growth:+.1%} from {first:,} to {last:,} subscribers.")
    return "\n".join(lines)


def _alerts(args: argparse.Namespace, sink: Sink, folder: Path) -> dict[str, Any]:
    """The alert latency run, in a database of its own (SQLite unless --database-url)."""
    from benchmarks.alerts import alert_latency  # imports outreach: only when this run is asked for

    print(
        f"-- an alert for {args.alerts:,} subscribers: polling a feed file, OUTREACH_ALERTS=auto", flush=True
    )
    return alert_latency(args.alerts, _environment(args, sink, folder, "alerts"), folder)


def _alert_line(latency: dict[str, Any]) -> str:
    sent, matching, others = latency["sent"], latency["matching"], latency["others"]
    return (
        f"\n\nAlert latency: {sent:,} of {matching:,} matching subscribers ({others:,} others got nothing) "
        f"accepted {latency['entry_to_last_accepted_s']:.1f} s after the poll stored the entry; "
        f"`outreach alerts poll` ran {latency['command_wall_s']:.1f} s in all."
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--subscribers", default="100000", help="comma-separated counts, e.g. 100000,1000000")
    parser.add_argument(
        "--connections", type=int, default=4, help="SMTP connections (and smtp-source sessions)"
    )
    parser.add_argument("--naive-sample", type=int, default=300, help="recipients the naive way sends")
    parser.add_argument("--ceiling-messages", type=int, default=50_000, help="messages smtp-source sends")
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    parser.add_argument(
        "--alerts", type=int, default=10_000, help="matching subscribers of the alert latency run (0: none)"
    )
    args = parser.parse_args()
    counts = [int(part) for part in args.subscribers.split(",")]
    sink = Sink()
    runs = []
    try:
        with tempfile.TemporaryDirectory(prefix="outreach-bench-") as folder:
            for count in counts:
                runs.append(_run(count, args, sink, Path(folder)))
            latency = _alerts(args, sink, Path(folder)) if args.alerts else None
    finally:
        sink.stop()
    table = _report(runs) + (_alert_line(latency) if latency else "")
    print("\n" + table)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(runs, indent=2))
    (RESULTS / f"{stamp}.md").write_text(table + "\n")
    print(f"\nwritten to {RESULTS / stamp}.json and .md")


if __name__ == "__main__":
    main()
