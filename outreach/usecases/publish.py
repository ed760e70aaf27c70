"""After a meeting, in one step: record its outcome, compose the issue, write previews and plan the send."""

from __future__ import annotations

__all__ = ["PREVIEWS", "Published", "publish_meeting"]

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select

from outreach.calendar import JST, next_business_morning
from outreach.db import Database
from outreach.models import Organization
from outreach.network import NETWORK_SLUG
from outreach.planner import check_send_time, schedule_issue
from outreach.render import Renderer
from outreach.usecases import drafts
from outreach.usecases.content import MeetingRecord, record_meeting

# The renditions previewed: the network's own, in both languages, and two members'.
PREVIEWS = ((NETWORK_SLUG, "ja"), (NETWORK_SLUG, "en"), ("jetro", "ja"), ("jcci", "ja"))


@dataclass(frozen=True)
class Published:
    """What a publication did: the meeting recorded, the issue composed, its previews and its planned send."""

    meeting: str
    held_on: date
    issue_number: int
    subject_ja: str
    previews: list[drafts.Preview]
    send_at: datetime
    job_id: str
    next_business_morning: bool  # no send time was given: the first business morning after today


def publish_meeting(
    db: Database,
    record: MeetingRecord,
    *,
    send_at: datetime | None,
    morning: time,
    charset: str = "utf-8",
    renderer: Renderer,
    base_url: str,
    preview_root: Path,
    now: datetime,
) -> Published:
    """Record the meeting, compose its issue dated the send day, preview it and plan its send.

    With no `send_at`, the send is at `morning` (JST) on the next business day, never today, so staff have
    time to read the previews. Bad input (a recorded meeting, a send time in the past, a text the charset
    cannot carry) is refused before anything is saved or written.
    """
    at = send_at if send_at is not None else next_business_morning(now, at=morning)
    check_send_time(at, now=now)
    with db.session() as session:
        meeting = record_meeting(session, record)
        draft = drafts.NewDraft(meetings=[meeting.key], issue_date=at.astimezone(JST).date(), charset=charset)
        issue = drafts.compose(session, draft, renderer=renderer).issue
        key, held_on, number, subject = meeting.key, meeting.held_on, issue.number, issue.subject_ja
    # Previews are written once the issue is saved, so a refused publication leaves no stray files.
    previews = _write_previews(
        db, number, renderer=renderer, base_url=base_url, folder=preview_root / f"issue-{number:04d}"
    )
    planned = schedule_issue(db, number, at, now=now)
    return Published(
        meeting=key,
        held_on=held_on,
        issue_number=number,
        subject_ja=subject,
        previews=previews,
        send_at=at,
        job_id=planned.id,
        next_business_morning=send_at is None,
    )


def _write_previews(
    db: Database, number: int, *, renderer: Renderer, base_url: str, folder: Path
) -> list[drafts.Preview]:
    """The PREVIEWS of the organizations that exist (a network may lack a member): `folder/slug.lang.html`."""
    with db.session(dry_run=True) as session:
        wanted = {slug for slug, _ in PREVIEWS}
        present = set(session.scalars(select(Organization.slug).where(Organization.slug.in_(wanted))))
        return [
            drafts.preview(
                session,
                number,
                organization=slug,
                language=language,
                out=folder / f"{slug}.{language}.html",
                renderer=renderer,
                base_url=base_url,
            )
            for slug, language in PREVIEWS
            if slug in present
        ]
