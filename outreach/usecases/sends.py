"""Sending an issue, as staff steer it: start, send now, pause, resume, cancel, retry, decide on held rows.

Each function takes a session (or the database) and an issue number, moves the issue through its lifecycle
(outreach.states) and its rows through the outbox, and raises InvalidInput or NotFound with a sentence a
person can act on. The CLI, the scheduler and the web console call these and nothing below them.

A send starts only in `start_send`, which asks outreach.usecases.approval whether the issue is approved under
the policy its caller passes in (`by`), and audits the start. `audience` tells who a send started now reaches.

A send that finds no relay to take it pauses its issue with a reason that starts with RELAY_DOWN, so that
`outreach issue status` says what happened; sending it again resumes it, as it is nobody's decision to make.
"""

from __future__ import annotations

__all__ = [
    "RELAY_DOWN",
    "Audience",
    "DeliveryOptions",
    "SendRun",
    "audience",
    "cancel_send",
    "decide_held",
    "make_worker",
    "pause_send",
    "resume_send",
    "retry_send",
    "send_now",
    "start_for_workers",
    "start_send",
]

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach import outbox, states
from outreach.alerts.audience import issue_audience
from outreach.alerts.compose import mark_digested
from outreach.composer import Composer
from outreach.config import Settings
from outreach.db import Database
from outreach.errors import InvalidInput, RelayUnavailable
from outreach.issues import get_issue, issue_topics
from outreach.lanes import Lane, lanes_for
from outreach.links import PersonalLinks
from outreach.mailer import Mailer
from outreach.models import Delivery, Issue, IssueStatus, Organization, Subscriber, SubscriberStatus, utcnow
from outreach.network import NETWORK_SLUG
from outreach.outbox.queue import wants
from outreach.ratelimit import RateLimits
from outreach.render import Renderer
from outreach.staff import audit
from outreach.store import Store
from outreach.usecases.approval import Acting, record_go_ahead, require_approval
from outreach.worker import Worker

RELAY_DOWN = "the relay could not be reached: "


@dataclass(frozen=True)
class DeliveryOptions:
    """Overrides for one send; anything left None comes from the settings."""

    batch_size: int | None = None


@dataclass
class SendRun:
    """What one `outreach issue send` did."""

    issue_number: int
    destination: str
    enqueued: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    unknown: int = 0
    lost: int = 0
    already_sent: bool = False
    finished: bool = False
    paused: str | None = None
    totals: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Audience:
    """Who a send started now reaches in one organization (the network's row holds the unaffiliated too)."""

    slug: str
    name_ja: str
    name_en: str
    recipients: int

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


def start_send(session: Session, issue: Issue, *, now: datetime, by: Acting) -> int:
    """Write the ledger rows of a draft or scheduled issue and mark it sending; return how many rows.

    NotApproved when the issue is not approved as `by.policy` wants; the start is audited as `by.actor`.
    """
    if issue.status in states.MOVES["start"][0]:  # else the move's own refusal says what the issue is
        require_approval(issue, by.policy)
    states.start(issue, now=now)
    queued = outbox.enqueue_issue(session, issue, issue_topics(issue), now=now)
    mark_digested(session, issue)  # the safety entries it carries go out with it
    record_go_ahead(session, issue, by, action="issue.send", what=f"{queued} recipients queued", now=now)
    return queued


def start_for_workers(session: Session, number: int, *, now: datetime, by: Acting) -> tuple[IssueStatus, int]:
    """Start a draft or scheduled issue and leave its delivery to running workers: its state, rows added."""
    issue = get_issue(session, number)
    added = start_send(session, issue, now=now, by=by) if issue.status in states.MOVES["start"][0] else 0
    _resume_if_only_the_relay_stopped_it(issue)
    return issue.status, added


def audience(session: Session, issue: Issue) -> list[Audience]:
    """Per organization, in the network's order, the active subscribers a send started now would add: those
    who want the issue's topics (a safety alert: whose places it concerns) and have no row of it yet. Reads
    only."""
    already = select(Delivery.id).where(
        Delivery.issue_id == issue.id, Delivery.subscriber_id == Subscriber.id
    )
    counted = session.execute(
        select(Subscriber.organization_id, func.count())
        .where(
            Subscriber.status == SubscriberStatus.ACTIVE,
            wants(issue_topics(issue)),
            issue_audience(issue),
            ~already.exists(),
        )
        .group_by(Subscriber.organization_id)
    )
    counts = {organization_id: int(count) for organization_id, count in counted}
    found = []
    for org in session.scalars(select(Organization).order_by(Organization.position)):
        # The unaffiliated get the network's rendition: they are counted in its row.
        count = counts.pop(org.id, 0) + (counts.pop(None, 0) if org.slug == NETWORK_SLUG else 0)
        if count:
            found.append(Audience(org.slug, org.name_ja, org.name_en, count))
    if counts.get(None):  # a database without the seeded network still shows them
        found.insert(0, Audience(NETWORK_SLUG, "(ネットワーク)", "(network)", counts[None]))
    return found


def _resume_if_only_the_relay_stopped_it(issue: Issue) -> bool:
    """Sending an issue again that a missing relay paused is the way to go on: nobody else must decide."""
    if issue.status == IssueStatus.PAUSED and (issue.pause_reason or "").startswith(RELAY_DOWN):
        states.resume(issue)
        return True
    return False


def _audit(
    session: Session, issue: Issue, action: str, *, actor: str, ip: str | None, detail: str | None = None
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target=audit.issue_target(issue.number),
        detail=detail,
        ip=ip,
        now=utcnow(),
    )


def pause_send(
    session: Session, number: int, *, actor: str, ip: str | None = None, reason: str = "paused by staff"
) -> Issue:
    issue = get_issue(session, number)
    states.pause(issue, reason=reason)
    _audit(session, issue, "issue.pause", actor=actor, ip=ip, detail=reason)
    return issue


def resume_send(session: Session, number: int, *, actor: str, ip: str | None = None) -> Issue:
    issue = get_issue(session, number)
    states.resume(issue)
    _audit(session, issue, "issue.resume", actor=actor, ip=ip)
    return issue


def cancel_send(session: Session, number: int, *, actor: str, ip: str | None = None) -> int:
    """Cancel an issue that is not sent yet; its unsent rows are cancelled. Return how many."""
    issue = get_issue(session, number)
    states.cancel(issue)
    cancelled = outbox.cancel_rows(session, issue.id)
    _audit(session, issue, "issue.cancel", actor=actor, ip=ip, detail=f"{cancelled} recipients not sent it")
    return cancelled


def retry_send(session: Session, number: int, *, actor: str, ip: str | None = None) -> int:
    """Queue the failed, deferred and unknown recipients of an issue again; return how many."""
    issue = get_issue(session, number)
    if issue.status not in states.MOVES["reopen"][0]:
        raise states.IllegalMove(f"issue No. {number} is {issue.status}: it cannot be retried")
    reopened = outbox.reopen_rows(session, issue.id)
    if reopened:
        states.reopen(issue)
    _audit(session, issue, "issue.retry", actor=actor, ip=ip, detail=f"{reopened} recipients queued again")
    return reopened


def decide_held(
    session: Session,
    number: int,
    *,
    resend: bool,
    actor: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> int:
    """Messages whose fate a stopped worker left unknown, held for a decision: send again, or give up."""
    issue = get_issue(session, number)
    decided = outbox.decide_held(session, issue.id, resend=resend, now=now or utcnow())
    if not decided:
        raise InvalidInput(f"issue No. {number} has no recipients waiting for a decision")
    choice = "sent again" if resend else "given up"
    _audit(session, issue, "issue.decide", actor=actor, ip=ip, detail=f"{decided} held recipients {choice}")
    if issue.status == IssueStatus.PAUSED:
        states.resume(issue)  # a worker sends what was queued again
    states.settle_finished(session, now=now or utcnow())  # dropped: nothing is left, the issue is sent
    return decided


def make_worker(
    db: Database,
    settings: Settings,
    *,
    links: PersonalLinks,
    lanes: list[Lane] | None = None,
    issue_id: int | None = None,
    name: str | None = None,
    renderer: Renderer | None = None,
    batch_size: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    on_progress: Callable[[Counter[str]], None] | None = None,
) -> Worker:
    """A worker on the settings' relays (or the given lanes), writing to this database."""
    bounce_limit = settings.delivery.bounce_limit
    return Worker(
        lambda worker_name: Store(db, worker_name, clock=clock, bounce_limit=bounce_limit),
        Composer(db, settings, links=links, renderer=renderer, clock=clock),
        lanes if lanes is not None else lanes_for(settings),
        settings,
        sqlite=db.is_sqlite,
        issue_id=issue_id,
        name=name,
        batch_size=batch_size,
        on_progress=on_progress,
    )


def _destination(settings: Settings, mailer: Mailer | None) -> str:
    if mailer is not None:
        return mailer.describe()
    if settings.relays:
        return ", ".join(f"SMTP relay {relay}" for relay in settings.relays)
    return f"local outbox {settings.outbox_dir}"


def _start(db: Database, number: int, run: SendRun, now: datetime, by: Acting) -> int:
    with db.session() as session:
        issue = get_issue(session, number)
        if issue.status == IssueStatus.SENT:
            run.already_sent = True
        elif issue.status in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
            run.enqueued = start_send(session, issue, now=now, by=by)
        elif _resume_if_only_the_relay_stopped_it(issue):
            return issue.id
        elif issue.status in (IssueStatus.PAUSED, IssueStatus.CANCELLED):
            raise InvalidInput(
                f"issue No. {number} is {issue.status}"
                + (f" ({issue.pause_reason})" if issue.pause_reason else "")
                + (": `outreach issue resume` it first" if issue.status == IssueStatus.PAUSED else "")
            )
        return issue.id


def _paused_for_the_relay(db: Database, number: int, error: RelayUnavailable) -> RelayUnavailable:
    """Pause the issue (its rows stay queued) with what happened; the error, saying how to go on."""
    with db.session() as session:
        issue = get_issue(session, number)
        if issue.status != IssueStatus.SENDING:  # staff paused or cancelled it meanwhile: their word stands
            return error
        states.pause(issue, reason=f"{RELAY_DOWN}{error}")
    return RelayUnavailable(
        f"{error}; issue No. {number} is paused with its recipients queued: "
        f"`outreach issue send {number}` resumes it once the relay answers"
    )


async def send_now(
    db: Database,
    settings: Settings,
    number: int,
    *,
    links: PersonalLinks,
    by: Acting,
    mailer: Mailer | None = None,
    renderer: Renderer | None = None,
    options: DeliveryOptions | None = None,
    clock: Callable[[], datetime] = utcnow,
    on_progress: Callable[[Counter[str]], None] | None = None,
    worker_name: str | None = None,
) -> SendRun:
    """Start the issue (its ledger rows, if `by` may) and deliver it in this process until nothing is due."""
    run = SendRun(issue_number=number, destination=_destination(settings, mailer))
    issue_id = _start(db, number, run, clock(), by)
    if not run.already_sent:
        lanes = None
        if mailer is not None:
            lanes = [Lane(lambda: mailer, RateLimits(rate=None, per_hour=None, domain_rates={}))]
        worker = make_worker(
            db,
            settings,
            links=links,
            lanes=lanes,
            issue_id=issue_id,
            name=worker_name,
            renderer=renderer,
            batch_size=(options or DeliveryOptions()).batch_size,
            clock=clock,
            on_progress=on_progress,
        )
        try:
            report = await worker.run(until_idle=True)
        except RelayUnavailable as error:
            raise _paused_for_the_relay(db, number, error) from None
        finally:
            worker.close()
        # The worker also delivered any safety alert being sent (they go first): the run counts this issue.
        run.outcomes, run.unknown, run.lost = report.of(issue_id), report.unknown, report.lost
    with db.session() as session:
        issue = get_issue(session, number)
        run.finished = issue.status == IssueStatus.SENT
        run.paused = issue.pause_reason if issue.status == IssueStatus.PAUSED else None
        run.totals = outbox.status_counts(session, issue_id)
    return run
