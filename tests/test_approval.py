"""The sign-off before a send (起案 → 決裁), as use cases on real databases: who may approve what under each
OUTREACH_APPROVAL policy, an edit that withdraws an approval, and the engine refusing an unapproved issue to
a send now, a worker's send, a plan, and a scheduled send whose time has come. Each step is in the audit log.
"""

from __future__ import annotations

import ast
import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.calendar import JST
from outreach.config import Settings
from outreach.db import Database
from outreach.issues import get_issue
from outreach.jobs import JobRuntime, RunResult, scheduled_send
from outreach.models import Delivery, IssueStatus, JobRun
from outreach.planner import JobBook, schedule_issue
from outreach.staff import audit
from outreach.staff import users as staff_users
from outreach.staff.models import StaffRole
from outreach.staff.settings import ApprovalPolicy
from outreach.staff.users import NewUser, StaffView
from outreach.usecases import approval, drafts
from outreach.usecases.approval import Acting, ApprovalRefused, NotApproved, Refusal
from outreach.usecases.sends import send_now, start_for_workers, start_send
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.links import SignedLinks
from tests.conftest import snapshot

PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=JST)
TWO = ApprovalPolicy.TWO_PERSON
SIGN_OFF_COLUMNS = {"composed_by", "approved_by", "approved_at"}
ALICE, BOB, CAROL = "alice@example.jp", "bob@example.jp", "carol@example.jp"  # approver, approver, staff


@pytest.fixture
def people(seeded_db: Database) -> dict[str, StaffView]:
    """Two approvers and a staff user, and three subscribers (two organizations, one unaffiliated)."""
    found = {}
    with seeded_db.session() as session:
        for email, role in ((ALICE, StaffRole.APPROVER), (BOB, StaffRole.APPROVER), (CAROL, StaffRole.STAFF)):
            new = NewUser(email, role, PASSWORD)
            found[email] = staff_users.add_user(session, new, actor="cli:root", now=NOW)
        for email, slug in (("a@example.jp", "jetro"), ("b@example.jp", "jcci"), ("c@example.jp", None)):
            organization = organization_or_none(session, slug) if slug else None
            add_subscriber(session, email, organization=organization)
    return found


def compose(db: Database, actor: str) -> int:
    with db.session() as session:
        draft = drafts.NewDraft(meetings=["plenary:8"])
        return approval.compose_as(session, draft, actor, now=NOW).issue.number


def approve(db: Database, number: int, who: StaffView, policy: ApprovalPolicy = TWO) -> None:
    with db.session() as session:
        approval.approve(session, number, who, policy=policy, now=NOW + timedelta(minutes=5), ip="192.0.2.1")


def approved(db: Database, composer: str, approver: StaffView) -> int:
    """An issue that `composer` composed and `approver` approved, under two-person."""
    number = compose(db, composer)
    approve(db, number, approver)
    return number


def sign_off(db: Database, number: int) -> tuple[str | None, str | None, datetime | None]:
    with db.session() as session:
        issue = get_issue(session, number)
        return issue.composed_by, issue.approved_by, issue.approved_at


def events(db: Database) -> list[tuple[str, str, str | None, str | None]]:
    """(actor, action, target, detail) of the issue events, oldest first."""
    with db.session() as session:
        entries = audit.read_page(session, per_page=1000).entries
    return [
        (e.actor, e.action, e.target, e.detail) for e in reversed(entries) if e.action.startswith("issue.")
    ]


def refused(db: Database, number: int, who: StaffView, policy: ApprovalPolicy = TWO) -> Refusal:
    before = snapshot(db)
    with pytest.raises(ApprovalRefused) as caught:
        approve(db, number, who, policy)
    assert snapshot(db) == before
    assert len(str(caught.value).splitlines()) == 1
    return caught.value.reason


def test_the_composer_cannot_approve_their_own_issue_and_another_approver_can(
    seeded_db: Database, people: dict[str, StaffView]
) -> None:
    number = compose(seeded_db, "staff:alice@example.jp")

    assert refused(seeded_db, number, people[ALICE]) is Refusal.OWN_ISSUE
    approve(seeded_db, number, people[BOB])

    assert sign_off(seeded_db, number) == (
        "staff:alice@example.jp",
        "staff:bob@example.jp",
        NOW + timedelta(minutes=5),
    )
    subject = "【海外安全メールマガジン 第1号】第8回本会合の開催結果"
    assert events(seeded_db) == [
        ("staff:alice@example.jp", "issue.compose", "issue No. 1", f"{subject} (8 sections)"),
        ("staff:bob@example.jp", "issue.approve", "issue No. 1", "composed by staff:alice@example.jp"),
    ]
    assert refused(seeded_db, number, people[BOB]) is Refusal.ALREADY_APPROVED


def test_a_staff_user_is_no_approver(seeded_db: Database, people: dict[str, StaffView]) -> None:
    number = compose(seeded_db, "staff:alice@example.jp")
    assert refused(seeded_db, number, people[CAROL]) is Refusal.NOT_AN_APPROVER
    assert refused(seeded_db, number, people[CAROL], ApprovalPolicy.SELF) is Refusal.NOT_AN_APPROVER


def test_under_self_the_composer_may_approve_and_the_log_says_so(
    seeded_db: Database, people: dict[str, StaffView]
) -> None:
    number = compose(seeded_db, "staff:alice@example.jp")

    approve(seeded_db, number, people[ALICE], ApprovalPolicy.SELF)

    assert sign_off(seeded_db, number)[1] == "staff:alice@example.jp"
    actor, action, _, detail = events(seeded_db)[-1]
    assert (actor, action) == ("staff:alice@example.jp", "issue.approve")
    assert detail is not None
    assert "approved by its own composer, as OUTREACH_APPROVAL=self allows" in detail
    with seeded_db.session() as session:  # worth nothing once the rule is two-person again
        issue = get_issue(session, number)
        approval.require_approval(issue, ApprovalPolicy.SELF)
        with pytest.raises(NotApproved) as caught:
            approval.require_approval(issue, TWO)
    assert caught.value.reason is Refusal.APPROVED_BY_COMPOSER


def test_an_edit_withdraws_the_approval_and_the_editor_becomes_the_composer(
    seeded_db: Database, people: dict[str, StaffView]
) -> None:
    number = approved(seeded_db, "staff:alice@example.jp", people[BOB])

    with seeded_db.session() as session:
        changes = drafts.DraftChanges(subject_ja="【臨時号】第8回本会合の開催結果")
        approval.edit_as(session, number, changes, "staff:bob@example.jp", now=NOW + timedelta(hours=1))

    assert sign_off(seeded_db, number) == ("staff:bob@example.jp", None, None)
    revoke, edit = events(seeded_db)[-2:]
    assert revoke[:3] == ("staff:bob@example.jp", "issue.revoke", "issue No. 1")
    assert revoke[3] is not None
    assert "approved by staff:bob@example.jp" in revoke[3]
    assert revoke[3].endswith("no longer holds: the issue was edited")
    assert edit[:2] == ("staff:bob@example.jp", "issue.edit")
    assert refused(seeded_db, number, people[BOB]) is Refusal.OWN_ISSUE  # the editor is the composer now
    approve(seeded_db, number, people[ALICE])
    assert sign_off(seeded_db, number)[1] == "staff:alice@example.jp"


def test_an_unapproved_issue_cannot_start_or_be_scheduled(
    seeded_db: Database, settings: Settings, people: dict[str, StaffView]
) -> None:
    number = compose(seeded_db, "cli:taro")
    by = Acting("cli:taro", TWO)
    before = snapshot(seeded_db)

    with pytest.raises(NotApproved) as caught, seeded_db.session() as session:
        start_send(session, get_issue(session, number), now=NOW, by=by)
    assert str(caught.value) == (
        "issue No. 1 is not approved yet: an approver must approve it first "
        "(`outreach issue approve 1 --as EMAIL`, or its page in the console)"
    )
    with pytest.raises(NotApproved), seeded_db.session() as session:
        start_for_workers(session, number, now=NOW, by=by)
    with pytest.raises(NotApproved):
        asyncio.run(send_now(seeded_db, settings, number, links=SignedLinks(settings), by=by))
    with pytest.raises(NotApproved):
        schedule_issue(seeded_db, number, NOW + timedelta(days=1), now=NOW, by=by)

    assert snapshot(seeded_db) == before
    with JobBook(seeded_db) as book:
        assert book.jobs() == []
    assert refused(seeded_db, number, people[CAROL]) is Refusal.NOT_AN_APPROVER


def test_an_approved_issue_starts_and_the_start_names_the_approval(
    seeded_db: Database, people: dict[str, StaffView]
) -> None:
    number = approved(seeded_db, "cli:taro", people[ALICE])

    with seeded_db.session() as session:
        later = NOW + timedelta(minutes=10)
        state, added = start_for_workers(session, number, now=later, by=Acting("staff:carol@example.jp", TWO))

    assert (state, added) == (IssueStatus.SENDING, 3)
    assert events(seeded_db)[-1] == (
        "staff:carol@example.jp",
        "issue.send",
        "issue No. 1",
        "3 recipients queued; approved by staff:alice@example.jp at 2026-12-01 09:05 JST",
    )
    assert refused(seeded_db, number, people[BOB]) is Refusal.NOT_APPROVABLE


def test_with_no_approval_step_every_send_without_one_is_audited(
    seeded_db: Database, people: dict[str, StaffView]
) -> None:
    first, second = compose(seeded_db, "cli:taro"), compose(seeded_db, "cli:taro")
    plain = Acting("cli:taro", ApprovalPolicy.NONE)

    with seeded_db.session() as session:
        start_send(session, get_issue(session, first), now=NOW, by=plain)
    schedule_issue(seeded_db, second, NOW + timedelta(days=1), now=NOW, by=plain)

    sent, planned = events(seeded_db)[-2:]
    assert sent == (
        "cli:taro",
        "issue.send",
        "issue No. 1",
        "3 recipients queued; without approval (OUTREACH_APPROVAL=none)",
    )
    assert planned[:3] == ("cli:taro", "issue.schedule", "issue No. 2")
    assert planned[3] == "to go out 2026-12-02 09:00 JST; without approval (OUTREACH_APPROVAL=none)"


def _runtime(db: Database, at: datetime) -> JobRuntime:
    """The scheduler's runtime with a worker's send under two-person (as `scheduler --with-worker`)."""

    async def send(number: int) -> str:
        with db.session() as session:
            state, added = start_for_workers(session, number, now=at, by=Acting("scheduler", TWO))
        return f"issue No. {number} is {state}: {added} recipients queued"

    return JobRuntime(db=db, send=send, grace=timedelta(hours=2), clock=lambda: at)


def test_a_scheduled_issue_without_approval_is_missed_and_says_why(
    seeded_db: Database, people: dict[str, StaffView]
) -> None:
    number = compose(seeded_db, "cli:taro")
    due = NOW + timedelta(days=1)
    schedule_issue(seeded_db, number, due, now=NOW)  # as `meeting publish` plans a new issue

    outcome = asyncio.run(scheduled_send(_runtime(seeded_db, due), number, scheduled_for=due))

    assert outcome.result == RunResult.MISSED
    assert outcome.detail.startswith("not sent: issue No. 1 is not approved yet")
    assert "It is a draft again: once approved, send it with `outreach issue send 1`" in outcome.detail
    with seeded_db.session() as session:
        issue = get_issue(session, number)
        assert (issue.status, issue.scheduled_at) == (IssueStatus.DRAFT, None)
        run = session.scalars(select(JobRun)).one()
        assert (run.result, run.detail) == (RunResult.MISSED, outcome.detail)
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert events(seeded_db)[-1] == ("scheduler", "issue.miss", "issue No. 1", outcome.detail)


def test_a_scheduled_issue_approved_in_time_goes_out(
    seeded_db: Database, people: dict[str, StaffView]
) -> None:
    number = compose(seeded_db, "cli:taro")
    due = NOW + timedelta(days=1)
    schedule_issue(seeded_db, number, due, now=NOW)
    approve(seeded_db, number, people[BOB])  # a scheduled issue may be approved

    outcome = asyncio.run(scheduled_send(_runtime(seeded_db, due), number, scheduled_for=due))

    assert (outcome.result, outcome.detail) == (RunResult.OK, "issue No. 1 is sending: 3 recipients queued")
    assert events(seeded_db)[-1][:2] == ("scheduler", "issue.send")


def test_only_the_approval_module_writes_who_composed_and_who_approved() -> None:
    root = Path(__file__).resolve().parent.parent
    writers = set()
    for package in ("outreach", "subscribers"):
        for path in root.joinpath(package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Attribute) and t.attr in SIGN_OFF_COLUMNS for t in targets):
                    writers.add(path.relative_to(root).as_posix())
    assert writers == {"outreach/usecases/approval.py"}
