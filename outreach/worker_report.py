"""What a worker run did, for the command that ran it and its caller."""

from __future__ import annotations

__all__ = ["WorkerReport"]

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class WorkerReport:
    """What a worker run did: outcomes, messages whose fate a crash left unknown, rows lost to another."""

    outcomes: Counter[str] = field(default_factory=Counter)
    unknown: int = 0
    lost: int = 0
    paused: dict[int, str] = field(default_factory=dict)
    by_issue: dict[int, Counter[str]] = field(default_factory=dict)  # the outcomes, per issue

    def of(self, issue_id: int) -> Counter[str]:
        """The outcomes of one issue's rows (a worker also takes the safety alerts' rows first)."""
        return self.by_issue.get(issue_id, Counter())
