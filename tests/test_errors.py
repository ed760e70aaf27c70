"""Errors a person can cause end in one line and a documented exit code, never a traceback: a database that
cannot be reached or refuses us, one lost mid-send, one locked by another process, a closed stdout, a folder
that cannot be written. Real processes, real databases, a real SMTP server, a real TCP proxy to cut."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from outreach.cli import cli
from outreach.db import Database
from outreach.errors import EXIT_BROKEN_PIPE
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, snapshot
from tests.smtp_server import SmtpServer, free_port

LONG_SECRET = "a-test-secret-key-long-enough-for-the-guard-0123456789"
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason=SKIP_POSTGRES)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def outreach(
    *args: str, env: dict[str, str], stdout: int = subprocess.PIPE, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "outreach", *args],
        env={**os.environ, **env},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=120,
    )


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def ready(env: dict[str, str], db: Database) -> Database:
    assert run("seed").exit_code == 0
    return db


@pytest.fixture
def draft(ready: Database) -> int:
    for email in ("one@example.jp", "two@example.jp", "three@example.jp"):
        assert run("subscribers", "add", email).exit_code == 0
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0
    return 1


# --- a database that cannot be reached ---------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_that_does_not_answer_is_one_line_and_exit_5_without_the_password(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"postgresql://nobody:pa55word-x@127.0.0.1:{free_port()}/x")

    result = CliRunner().invoke(cli, ["issue", "list"])

    assert result.exit_code == 5, result.output
    line = one_error_line(result.output)
    assert "cannot use the database postgresql+psycopg://nobody:***@127.0.0.1" in line
    assert "pa55word-x" not in result.output


@pytest.mark.postgres
@needs_postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_credentials_the_server_refuses_are_one_line_and_exit_5(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert POSTGRES_URL is not None
    stranger = make_url(POSTGRES_URL).set(username="no-such-role-outreach", password="wrong-pass-x")
    monkeypatch.setenv("OUTREACH_DATABASE_URL", stranger.render_as_string(hide_password=False))

    result = CliRunner().invoke(cli, ["db", "status"])

    assert result.exit_code == 5, result.output
    assert "no-such-role-outreach" in one_error_line(result.output)
    assert "wrong-pass-x" not in result.output


class CuttableProxy:
    """A TCP proxy in front of PostgreSQL; `cut()` drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # the proxy was cut
        for end in (source, sink):
            end.close()

    def cut(self) -> None:
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):  # already closed by its pipe
                    end.shutdown(socket.SHUT_RDWR)
                end.close()


@pytest.mark.postgres
@needs_postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_lost_mid_send_stops_it_in_one_line_and_the_next_run_resumes_it(
    draft: int, database_url: str, env: dict[str, str], smtp_server: SmtpServer
) -> None:
    url = make_url(database_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    received = smtp_server.handler.handle_DATA

    async def cut_after_the_first_message(*args: Any) -> str:
        reply = await received(*args)
        proxy.cut()  # the database goes away while the send is under way
        return reply

    smtp_server.handler.handle_DATA = cut_after_the_first_message  # type: ignore[method-assign,assignment]
    sending = {
        **env,
        "OUTREACH_DATABASE_URL": url.set(port=proxy.port).render_as_string(hide_password=False),
        "OUTREACH_SMTP_URL": smtp_server.url,
        "OUTREACH_SECRET_KEY": LONG_SECRET,
        "OUTREACH_BATCH_SIZE": "1",
        "OUTREACH_SMTP_CONNECTIONS": "1",
    }

    lost = outreach("issue", "send", str(draft), "--no-progress", env=sending)

    assert lost.returncode == 5, lost.stdout + lost.stderr
    assert "cannot use the database" in one_error_line(lost.stderr)
    assert smtp_server.handler.count() >= 1
    smtp_server.handler.handle_DATA = received  # type: ignore[method-assign]
    again = outreach(
        "issue", "send", str(draft), "--no-progress", env={**sending, "OUTREACH_DATABASE_URL": database_url}
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert smtp_server.handler.copies() == {"one@example.jp": 1, "two@example.jp": 1, "three@example.jp": 1}
    assert '"status": "sent"' in run("issue", "status", str(draft), "--json").output


# --- a locked SQLite database ------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_another_process_keeps_locked_is_one_line_and_exit_5_after_the_wait(
    ready: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"{database_url}?timeout=0.2")
    before = snapshot(ready)
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as an import holds it while it writes
    try:
        result = CliRunner().invoke(cli, ["issue", "compose", "--meeting", "plenary:8"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == 5, result.output
    assert "stayed locked by another process" in one_error_line(result.output)
    assert snapshot(ready) == before


# --- a closed stdout ---------------------------------------------------------------------------------


@pytest.fixture
def closed_pipe() -> Iterator[int]:
    """The writing end of a pipe whose reader is gone before the command starts, as `| head` ends up."""
    reader, writer = os.pipe()
    os.close(reader)
    yield writer
    os.close(writer)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_compose_into_a_closed_pipe_still_saves_the_issue_and_exits_quietly(
    ready: Database, env: dict[str, str], closed_pipe: int
) -> None:
    composed = outreach("issue", "compose", "--meeting", "plenary:8", env=env, stdout=closed_pipe)

    assert composed.returncode == EXIT_BROKEN_PIPE
    assert composed.stderr == ""
    assert "No. 1" in run("issue", "list").output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_listing_into_a_closed_pipe_exits_quietly(
    draft: int, env: dict[str, str], closed_pipe: int
) -> None:
    listed = outreach("issue", "list", env=env, stdout=closed_pipe)

    assert listed.returncode == EXIT_BROKEN_PIPE
    assert listed.stderr == ""


# --- a folder that cannot be written -----------------------------------------------------------------


def _as_a_user_without_overrides() -> tuple[str, ...]:
    """Root writes anywhere; without CAP_DAC_OVERRIDE it honours the folder's mode like anyone else."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): a folder's mode cannot stop root")
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_var_folder_that_cannot_be_written_is_named_in_one_line_and_exit_7(
    draft: int, env: dict[str, str], tmp_path: Path
) -> None:
    var = tmp_path / "var"
    var.mkdir(exist_ok=True)
    var.chmod(0o555)
    try:
        result = outreach("issue", "send", "1", env=env, prefix=_as_a_user_without_overrides())
    finally:
        var.chmod(0o755)

    assert result.returncode == 7, result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert str(var) in line
    assert "may write there" in line
