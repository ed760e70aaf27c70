"""A worker's journal: one line before a message is handed to SMTP and one when its reply comes back.

Lines are written with os.write, so they survive the worker being killed (SIGKILL) even before the ledger
is updated. On restart the journal tells which claimed messages went out, which were refused, and which
were in flight when the worker died: only those have an unknown fate.

A line is `S <id> <message-id>` when a message is handed over and `F <id> <code> <message-id> <reply>` when
its reply came (code `-` for a dropped connection; `550@RCPT` for a reply to a command before the end of the
data), tab-separated; an F line ends with \\x1e so that a line torn by a kill mid-write is recognised and
ignored.
"""

from __future__ import annotations

__all__ = ["Journal", "JournalEntry", "read_journal"]

import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

from outreach.smtp import END_OF_DATA

_FLATTEN = re.compile(r"[\t\r\n\x1e]")


@dataclass(frozen=True)
class JournalEntry:
    delivery_id: int
    code: int | None  # None: started, no reply recorded
    reply: str
    message_id: str | None
    stage: str = END_OF_DATA  # the command the reply answered


def read_journal(path: Path) -> dict[int, JournalEntry]:
    """The last word on each delivery id in the journal."""
    entries: dict[int, JournalEntry] = {}
    if not path.exists():
        return entries
    for line in path.read_bytes().decode("utf-8", "replace").split("\n"):
        entry = _parse(line)
        if entry is not None:
            entries[entry.delivery_id] = entry
    return entries


def _parse(line: str) -> JournalEntry | None:
    fields = line.split("\t")
    try:
        if fields[0] == "S" and len(fields) == 3:
            return JournalEntry(int(fields[1]), None, "", fields[2])
        if fields[0] == "F" and len(fields) == 5 and fields[4].endswith("\x1e"):
            code_text, _, stage = fields[2].partition("@")
            code = None if code_text == "-" else int(code_text)
            return JournalEntry(int(fields[1]), code, fields[4][:-1], fields[3], stage or END_OF_DATA)
    except ValueError:
        return None
    return None


def _started(delivery_id: int, message_id: str) -> bytes:
    return f"S\t{delivery_id}\t{message_id}\n".encode()


class Journal:
    """Append-only, unbuffered; emptied once the ledger holds everything it says.

    `lock()` takes the journal's name for this process (a lock file beside it, released by the kernel
    when the process dies, even by SIGKILL).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = self._open()
        self._lock_fd: int | None = None

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def lock(self) -> bool:
        """Take the name; False if another live process holds it."""
        fd = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def started(self, delivery_id: int, message_id: str) -> None:
        os.write(self._fd, _started(delivery_id, message_id))

    def finished(
        self, delivery_id: int, code: int | None, reply: str, message_id: str, stage: str = END_OF_DATA
    ) -> None:
        flat = _FLATTEN.sub(" ", reply[:500])
        code_text = "-" if code is None else str(code) if stage == END_OF_DATA else f"{code}@{stage}"
        line = f"F\t{delivery_id}\t{code_text}\t{message_id}\t{flat}\x1e\n"
        os.write(self._fd, line.encode("utf-8"))

    def clear(self, *, keep: dict[int, str] | None = None) -> None:
        """Empty the journal but for a start line per message still in flight, replacing it atomically."""
        lines = b"".join(
            _started(delivery_id, message_id) for delivery_id, message_id in (keep or {}).items()
        )
        fresh = self.path.with_suffix(".new")
        fresh.write_bytes(lines)
        os.replace(fresh, self.path)  # a kill at any moment leaves the old journal or the new one, whole
        os.close(self._fd)
        self._fd = self._open()

    def close(self) -> None:
        os.close(self._fd)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
