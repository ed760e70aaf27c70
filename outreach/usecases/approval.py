"""Sign-off before sending (起案 → 決裁): who composed an issue, who approved it, and the rule a send obeys.

An issue is sent or scheduled only once an approver (role `approver` or `admin`) other than its composer has
approved it. OUTREACH_APPROVAL relaxes this (outreach.staff.settings.ApprovalPolicy): `self` lets the composer
approve their own issue, `none` drops the step and audits every send started without one. An edit withdraws
the approval and makes the editor its composer, so that what goes out is always what someone else approved.
The edges read the setting and hand it in: the engine never reads settings itself.

The only module that writes `composed_by`, `approved_by` and `approved_at`; every change is audited.
"""

from __future__ import annotations

__all__ = [
    "Acting",
    "ApprovalRefused",
    "NotApproved",
    "Refusal",
    "approve",
    "compose_as",
    "edit_as",
    "note_composer",
    "record_approval",
    "record_go_ahead",
    "require_approval",
    "sign_off",
]

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outreach.calendar import format_jst
from outreach.errors import InvalidInput
from outreach.issues import get_issue
from outreach.models import Issue, IssueStatus
from outreach.render import Renderer
from outreach.staff import audit
from outreach.staff.roles import Permission, allows
from outreach.staff.settings import ApprovalPolicy
from outreach.staff.users import StaffView
from outreach.usecases import drafts

_APPROVABLE = (IssueStatus.DRAFT, IssueStatus.SCHEDULED)


class Refusal(enum.StrEnum):
    """Why an approval, a send or a plan was refused: what an edge words in its own language."""

    NOT_APPROVABLE = "not-approvable"  # not a draft or a scheduled issue
    ALREADY_APPROVED = "already-approved"
    OWN_ISSUE = "own-issue"  # its composer, under two-person
    NOT_AN_APPROVER = "not-an-approver"  # a role that does not approve
    NOT_APPROVED = "not-approved"  # a send or a plan without an approval
    APPROVED_BY_COMPOSER = "approved-by-composer"  # given under `self`, worth nothing under two-person


class ApprovalRefused(InvalidInput):
    """An approval refused, with its `reason` (a Refusal) and a sentence a person can act on."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotApproved(ApprovalRefused):
    """The issue may not be sent or scheduled yet: nobody it counts for has approved it."""


@dataclass(frozen=True)
class Acting:
    """Who starts or plans a send (an audit actor: `staff:…`, `cli:…`, `scheduler`), from where, and the
    approval rule the edge read from OUTREACH_APPROVAL."""

    actor: str
    policy: ApprovalPolicy
    ip: str | None = None


def sign_off(issue: Issue) -> str:
    """`approved by staff:b@example.jp at 2026-12-01 09:30 JST`, or `not approved`."""
    if issue.approved_by is None:
        return "not approved"
    when = f" at {format_jst(issue.approved_at)}" if issue.approved_at is not None else ""
    return f"approved by {issue.approved_by}{when}"


def require_approval(issue: Issue, policy: ApprovalPolicy) -> None:
    """Refuse (NotApproved) to send or schedule an issue that the policy wants approved and is not.

    Under `two-person` an approval by the composer does not count (it was given under `self`).
    """
    if policy is ApprovalPolicy.NONE:
        return
    number = issue.number
    if issue.approved_by is None:
        raise NotApproved(
            Refusal.NOT_APPROVED,
            f"issue No. {number} is not approved yet: an approver must approve it first "
            f"(`outreach issue approve {number} --as EMAIL`, or its page in the console)",
        )
    if policy is ApprovalPolicy.TWO_PERSON and issue.approved_by == issue.composed_by:
        raise NotApproved(
            Refusal.APPROVED_BY_COMPOSER,
            f"issue No. {number} was approved by its own composer ({issue.approved_by}): under "
            "OUTREACH_APPROVAL=two-person another approver must approve it",
        )


def _audit(
    session: Session,
    issue: Issue,
    action: str,
    detail: str | None,
    *,
    actor: str,
    now: datetime,
    ip: str | None,
) -> None:
    """Log `action` on this issue, in the caller's transaction."""
    target = audit.issue_target(issue.number)
    audit.record(session, actor=actor, action=action, target=target, detail=detail, ip=ip, now=now)


def record_go_ahead(
    session: Session, issue: Issue, by: Acting, *, action: str, what: str, now: datetime
) -> None:
    """Audit a send that started or was planned (`what` it did), naming the approval it went ahead on; one
    without an approval says so, and which setting allowed it."""
    if issue.approved_by is None:
        how = f"without approval (OUTREACH_APPROVAL={by.policy.value})"
    else:
        how = sign_off(issue)
    _audit(session, issue, action, f"{what}; {how}", actor=by.actor, now=now, ip=by.ip)


def note_composer(
    session: Session, issue: Issue, actor: str, *, now: datetime, ip: str | None = None
) -> None:
    """Record who composed the issue (a new draft: its author; the scheduler's regular issue: `scheduler`)."""
    issue.composed_by = actor
    detail = f"{issue.subject_ja} ({len(issue.items)} sections)"
    _audit(session, issue, "issue.compose", detail, actor=actor, now=now, ip=ip)


def compose_as(
    session: Session,
    draft: drafts.NewDraft,
    actor: str,
    *,
    now: datetime,
    renderer: Renderer | None = None,
    ip: str | None = None,
) -> drafts.Drafted:
    """Compose a draft (outreach.usecases.drafts.compose) with `actor` as its composer, audited."""
    drafted = drafts.compose(session, draft, renderer=renderer)
    session.flush()
    note_composer(session, drafted.issue, actor, now=now, ip=ip)
    return drafted


def edit_as(
    session: Session,
    number: int,
    changes: drafts.DraftChanges,
    actor: str,
    *,
    now: datetime,
    renderer: Renderer | None = None,
    ip: str | None = None,
) -> drafts.Drafted:
    """Edit a draft as `actor`, who becomes its composer; an approval it had is withdrawn (both audited)."""
    drafted = drafts.edit(session, number, changes, renderer=renderer)
    issue = drafted.issue
    if issue.approved_by is not None:
        detail = f"the {sign_off(issue)} no longer holds: the issue was edited"
        issue.approved_by = None
        issue.approved_at = None
        _audit(session, issue, "issue.revoke", detail, actor=actor, now=now, ip=ip)
    issue.composed_by = actor
    _audit(session, issue, "issue.edit", None, actor=actor, now=now, ip=ip)
    return drafted


def record_approval(
    session: Session,
    number: int,
    approver: str,
    *,
    policy: ApprovalPolicy,
    now: datetime,
    ip: str | None = None,
    via: str | None = None,
) -> Issue:
    """Approve issue `number` as the actor `approver`, whose right to approve the caller has checked
    (`approve` checks a staff user's role; `outreach demo` approves as `demo:approver`).

    Refused (ApprovalRefused, an InvalidInput): an issue that is not a draft or scheduled, one approved
    already, and under `two-person` the composer's own.
    """
    issue = get_issue(session, number)
    if issue.status not in _APPROVABLE:
        raise ApprovalRefused(
            Refusal.NOT_APPROVABLE,
            f"issue No. {number} is {issue.status}: only a draft or a scheduled issue is approved",
        )
    if issue.approved_by is not None:
        raise ApprovalRefused(Refusal.ALREADY_APPROVED, f"issue No. {number} is already {sign_off(issue)}")
    own = issue.composed_by == approver
    if own and policy is ApprovalPolicy.TWO_PERSON:
        raise ApprovalRefused(
            Refusal.OWN_ISSUE,
            f"issue No. {number} was composed by {approver}: another approver must approve it "
            "(OUTREACH_APPROVAL=two-person)",
        )
    issue.approved_by = approver
    issue.approved_at = now
    notes = [f"composed by {issue.composed_by or 'an unknown composer'}"]
    if own:
        notes.append(f"approved by its own composer, as OUTREACH_APPROVAL={policy.value} allows")
    if via:
        notes.append(f"via {via}")
    _audit(session, issue, "issue.approve", "; ".join(notes), actor=approver, now=now, ip=ip)
    return issue


def approve(
    session: Session,
    number: int,
    approver: StaffView,
    *,
    policy: ApprovalPolicy,
    now: datetime,
    ip: str | None = None,
    via: str | None = None,
) -> Issue:
    """A staff user approves issue `number`: refused (InvalidInput) unless they are an approver or an
    admin, and as `record_approval` refuses."""
    if approver.disabled or not allows(approver.role, Permission.APPROVE):
        raise ApprovalRefused(
            Refusal.NOT_AN_APPROVER,
            f"{approver.email} is {approver.role.value}: only an approver or an admin approves an issue",
        )
    actor = audit.staff_actor(approver.email)
    return record_approval(session, number, actor, policy=policy, now=now, ip=ip, via=via)
