"""What becomes of the entries the rules send at once: one alert issue for all those waiting, then, as
OUTREACH_ALERTS says, its send started (auto), a draft and a mail to the staff who may approve it (approve),
or nothing (off: the entries are recorded only).

An entry that no subscriber's places match (among the active subscribers who want safety alerts) is recorded
with a note rather than composed into an issue nobody gets. Entries that arrive within a few minutes of each
other wait together: one poll's new entries, and any still waiting, make one alert issue, so nobody gets a
burst; each reader's copy shows only the entries of their places (outreach.alerts.render).
"""

from __future__ import annotations

__all__ = ["AUTO_APPROVER", "Dispatched", "dispatch"]

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from outreach.alerts.audience import has_audience
from outreach.alerts.compose import compose_alert_issue, record, waiting_now
from outreach.alerts.notify import Notice, approvers, notice_of, notify_approvers
from outreach.alerts.settings import AlertMode, AlertSettings
from outreach.config import Settings
from outreach.db import Database
from outreach.models import Issue
from outreach.staff import audit
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting, note_composer, record_approval
from outreach.usecases.sends import start_send

AUTO_APPROVER = "OUTREACH_ALERTS=auto"  # the approval an alert issue goes out on in auto mode: the setting's
NOBODY = "no active subscriber who wants safety alerts does business in its countries or regions"
OFF = "OUTREACH_ALERTS=off: recorded, not sent"


@dataclass
class Dispatched:
    """What a dispatch did: the alert issues it composed, and of those the ones whose send it started."""

    composed: list[int] = field(default_factory=list)  # issue numbers
    started: list[int] = field(default_factory=list)  # auto: being sent; a worker or the caller delivers them
    notified: list[str] = field(default_factory=list)  # approve: the staff addresses mailed a link
    recorded: int = 0  # entries left to nobody (off, or no subscriber's places match)
    unnotified: dict[str, str] = field(default_factory=dict)  # approve: addresses the mail did not reach, why
    entries: int = 0  # entries the composed issues carry

    def summary(self) -> str:
        """One line: what was composed, started, mailed and recorded."""
        parts = []
        for number in self.composed:
            state = "sending" if number in self.started else "a draft to approve"
            parts.append(f"alert issue No. {number} composed with {self.entries} entries, {state}")
        if self.composed and not self.started:
            mailed = ", ".join(self.notified) or "no approver"
            parts.append(f"approval asked of {mailed}")
        if self.unnotified:
            parts.append("not reached: " + "; ".join(f"{to} ({why})" for to, why in self.unnotified.items()))
        if self.recorded:
            parts.append(f"{self.recorded} entries recorded only")
        return "; ".join(parts) or "nothing to send"


def dispatch(db: Database, site: Settings, alerts: AlertSettings, *, now: datetime, actor: str) -> Dispatched:
    """Compose the waiting immediate entries into one alert issue and act on it as `alerts.mode` says."""
    done = Dispatched()
    with db.session() as session:
        waiting = waiting_now(session)
        if alerts.mode is AlertMode.OFF:
            done.recorded = record(session, waiting, OFF)
            return done
        heard = [entry for entry in waiting if has_audience(session, entry.id)]
        done.recorded = record(session, [entry for entry in waiting if entry not in heard], NOBODY)
        if not heard:
            return done
        issue = compose_alert_issue(session, heard, now=now)
        note_composer(session, issue, actor, now=now)
        done.composed.append(issue.number)
        done.entries = len(heard)
        if alerts.mode is AlertMode.AUTO:
            _approve_and_start(session, issue, actor=actor, now=now)
            done.started.append(issue.number)
            return done
        notice = notice_of(issue.number, heard, (issue.subject_ja, issue.subject_en), site.base_url)
        to = approvers(session)
    _notify(db, site, notice, to, done, actor=actor, now=now)
    return done


def _approve_and_start(session: Session, issue: Issue, *, actor: str, now: datetime) -> None:
    """Auto mode: the setting is the approval (audited as such), and the send starts at once."""
    # Two-person holds: the composer (the poll's actor) is not the approver (the setting).
    policy = ApprovalPolicy.TWO_PERSON
    record_approval(session, issue.number, AUTO_APPROVER, policy=policy, now=now, via="the alerts' setting")
    start_send(session, issue, now=now, by=Acting(actor, policy))


def _notify(
    db: Database,
    site: Settings,
    notice: Notice,
    to: list[str],
    done: Dispatched,
    *,
    actor: str,
    now: datetime,
) -> None:
    """Approve mode: mail the approvers, after the draft is committed; the audit log says who was told."""
    notified = notify_approvers(site, notice, to, now=now)
    done.notified, done.unnotified = notified.sent, notified.failed
    detail = f"approval asked by mail of {', '.join(notified.sent) or 'nobody'}"
    if notified.failed:
        detail += "; not reached: " + "; ".join(f"{a} ({why})" for a, why in notified.failed.items())
    if not to:
        detail = "no staff user may approve it: nobody was mailed"
    with db.session() as session:
        audit.record(
            session,
            actor=actor,
            action="issue.notify",
            target=audit.issue_target(notice.number),
            detail=detail,
            now=now,
        )
