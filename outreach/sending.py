"""The life of a send, as staff steer it: start, pause, resume, cancel, and retry the failures."""

from __future__ import annotations

__all__ = ["cancel_send", "pause_send", "resume_send", "retry_send", "start_send"]

from datetime import datetime

from sqlalchemy.orm import Session

from outreach.errors import InvalidInput
from outreach.issues import get_issue
from outreach.models import Issue, IssueStatus
from outreach.outbox import cancel_rows, enqueue_issue, reopen_rows


def _refuse(issue: Issue, action: str) -> InvalidInput:
    return InvalidInput(f"issue No. {issue.number} is {issue.status}: it cannot be {action}")


def start_send(session: Session, issue: Issue, *, now: datetime) -> int:
    """Write the ledger rows of a draft or scheduled issue and mark it sending; return how many rows."""
    if issue.status not in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
        raise _refuse(issue, "started")
    added = enqueue_issue(session, issue, now=now)
    issue.status = IssueStatus.SENDING
    issue.send_started_at = now
    issue.scheduled_at = None
    return added


def pause_send(session: Session, number: int, *, reason: str = "paused by staff") -> Issue:
    issue = get_issue(session, number)
    if issue.status != IssueStatus.SENDING:
        raise _refuse(issue, "paused")
    issue.status = IssueStatus.PAUSED
    issue.pause_reason = reason
    return issue


def resume_send(session: Session, number: int) -> Issue:
    issue = get_issue(session, number)
    if issue.status != IssueStatus.PAUSED:
        raise _refuse(issue, "resumed")
    issue.status = IssueStatus.SENDING
    issue.pause_reason = None
    return issue


def cancel_send(session: Session, number: int) -> int:
    """Cancel an issue that is not sent yet; its unsent rows are cancelled. Return how many."""
    issue = get_issue(session, number)
    if issue.status in (IssueStatus.SENT, IssueStatus.CANCELLED):
        raise _refuse(issue, "cancelled")
    issue.status = IssueStatus.CANCELLED
    issue.scheduled_at = None
    return cancel_rows(session, issue.id)


def retry_send(session: Session, number: int) -> int:
    """Queue the failed, deferred and unknown recipients of an issue again; return how many."""
    issue = get_issue(session, number)
    if issue.status not in (IssueStatus.SENT, IssueStatus.SENDING, IssueStatus.PAUSED):
        raise _refuse(issue, "retried")
    reopened = reopen_rows(session, issue.id)
    if reopened:
        issue.status = IssueStatus.SENDING
        issue.pause_reason = None
    return reopened
