"""Every error outreach raises on purpose, and what the command line makes of it.

OutreachError                     base of all of them; `exit_code` is what the CLI exits with
├── InvalidInput (ValueError)     bad input from a person: a file, an address, an option. exit 2
│   ├── NotFound (LookupError)    an organization, meeting, issue or subscriber that does not exist
│   ├── RosterError               a roster file with line-numbered problems; nothing was imported
│   ├── NetworkDataError          a network data file (outreach/data/*.toml) with a bad entry (network.py)
│   ├── IllegalMove               a move the issue's state does not allow, e.g. pausing a draft (states.py)
│   └── WorkerBusy                SQLite's one worker slot is taken (recovery.py)
├── NotReady (RuntimeError)       the database is missing or not migrated to the head revision. exit 3
└── DeliveryError                 the mail server could not take the send. exit 4
    └── RelayUnavailable (ConnectionError)
                                  connecting, or reconnecting after a drop, failed: rows stay queued
"""

from __future__ import annotations

__all__ = [
    "DeliveryError",
    "InvalidInput",
    "NotFound",
    "NotReady",
    "OutreachError",
    "RelayUnavailable",
    "RosterError",
    "RosterProblem",
]

from dataclasses import dataclass


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
