"""Every error outreach raises on purpose, and what the command line makes of it.

OutreachError                     base of all of them; `exit_code` is what the CLI exits with
├── InvalidInput (ValueError)     bad input from a person: a file, an address, an option, a setting. exit 2
│   ├── NotFound (LookupError)    an organization, meeting, issue or subscriber that does not exist
│   ├── RosterError               a roster file with line-numbered problems; nothing was imported
│   ├── NetworkDataError          a network data file (outreach/data/*.toml) with a bad entry (network.py)
│   ├── IllegalMove               a move the issue's state does not allow, e.g. pausing a draft (states.py)
│   ├── WorkerBusy                SQLite's one worker slot is taken (recovery.py)
│   ├── ApprovalRefused           a sign-off the rule does not allow (usecases/approval.py)
│   │   └── NotApproved           a send or schedule of an issue nobody approved yet
│   └── UnsafeSettings            mail would go to a real relay with a weak OUTREACH_SECRET_KEY or a
│                                 non-public OUTREACH_BASE_URL (guard.py)
├── NotReady (RuntimeError)       the SQLite database file does not exist, or the database is not migrated to
│                                 the head revision. exit 3
├── DeliveryError                 the mail server could not take the send. exit 4
│   └── RelayUnavailable (ConnectionError)
│                                 connecting, or reconnecting after a drop, failed: rows stay queued and
│                                 `outreach issue send` pauses its issue with the reason
├── DatabaseUnavailable (ConnectionError)
│                                 the database cannot be reached, refused the credentials, dropped the
│                                 connection mid-command, or stayed locked longer than the wait. exit 5
├── SendPaused                    the send paused itself (errors in a row, a message that cannot be built,
│                                 messages of unknown fate waiting for a decision). exit 6
├── CannotWrite (OSError)         a file or folder cannot be written or read: permissions, a read-only or
│                                 full disk. exit 7
├── SchedulerBusy (RuntimeError)  another scheduler runs on this SQLite database (scheduler.py). exit 1
└── FeedError                     the ministry's safety feed could not be fetched or read (alerts/errors.py).
    │                             exit 8; the poll is recorded with the reason
    ├── FeedUnavailable (ConnectionError)
    │                             no answer in time, a refused connection, an HTTP error, too many bytes
    └── FeedInvalid (ValueError)  malformed XML, an XML bomb or external entity, not the feed

Not an error class: a closed standard output (`outreach issue list | head -1`) ends a command quietly with
exit 141, as a program stopped by SIGPIPE does; what the command did was committed before it printed.
"""

from __future__ import annotations

__all__ = [
    "EXIT_BROKEN_PIPE",
    "CannotWrite",
    "DatabaseUnavailable",
    "DeliveryError",
    "InvalidInput",
    "NotFound",
    "NotReady",
    "OutreachError",
    "RelayUnavailable",
    "RosterError",
    "RosterProblem",
    "SendPaused",
    "UnsafeSettings",
]

from dataclasses import dataclass

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a program a closed pipe stopped


class OutreachError(Exception):
    """Base of the errors that outreach raises on purpose."""

    exit_code = 1


class InvalidInput(OutreachError, ValueError):
    """Input from a person that cannot be used as it is."""

    exit_code = 2


class NotFound(InvalidInput, LookupError):
    """A named thing (organization, meeting, issue, subscriber) does not exist."""


@dataclass(frozen=True)
class RosterProblem:
    """One problem in a roster file, at a 1-based line number."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class UnsafeSettings(InvalidInput):
    """Mail would go to a real relay with settings fit only for local work (see outreach.guard)."""


class RosterError(InvalidInput):
    """A roster file has problems; the whole file was refused."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        self.problems = problems
        listing = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"the roster has {len(problems)} problem(s); nothing was imported:\n{listing}")


class NotReady(OutreachError, RuntimeError):
    """The database is not there or not migrated to the head revision."""

    exit_code = 3


class DeliveryError(OutreachError):
    """The mail server could not take a send."""

    exit_code = 4


class RelayUnavailable(DeliveryError, ConnectionError):
    """The SMTP relay could not be reached, or a dropped connection could not be re-established."""


class DatabaseUnavailable(OutreachError, ConnectionError):
    """The database cannot be reached, refused us, dropped the connection, or stayed locked too long."""

    exit_code = 5


class SendPaused(OutreachError):
    """A send stopped because its issue paused itself; the reason says what staff need to fix."""

    exit_code = 6


class CannotWrite(OutreachError, OSError):
    """A file or folder could not be written or read (permissions, a read-only or full disk)."""

    exit_code = 7
