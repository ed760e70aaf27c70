"""The meeting and promotion forms as posted: what was typed (to show again), what could not be read, and
the record for the use case when everything could.

Reading is only reading: a date that is no date, a number that is no number, a link row without its URL.
What the fields mean (an empty summary, a bad URL, a slug in use) is the use cases' to check
(outreach.usecases.content.check_meeting, outreach.usecases.promotions.check_promotion); their refusals
become `FieldProblem`s too, so the form shows every one at its field.
"""

from __future__ import annotations

__all__ = [
    "LINK_ROWS",
    "MEETING_TEXTS",
    "PROMOTION_TEXTS",
    "FieldProblem",
    "MeetingForm",
    "PromotionForm",
    "meeting_values",
    "merged",
    "previewing",
    "problem_of",
    "problems_of",
    "promotion_values",
    "read_meeting",
    "read_promotion",
    "rendered",
    "with_empty_rows",
]

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup
from starlette.datastructures import FormData

from outreach import content, markdown
from outreach.errors import InvalidInput
from outreach.models import Meeting, Promotion
from outreach.network import Link
from outreach.usecases.content import CharsetRefused, FieldRefused, MeetingRecord
from outreach.usecases.promotions import PromotionRecord

LINK_ROWS = 3  # empty link rows a new meeting's form offers; an edited one gets one more than it has
_MAX_LINK_ROWS = 10
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"[0-9]{1,7}")
# Longer than any use case accepts, so that a too-long text reaches the use case's own refusal.
_READ_LIMIT = 20_001
_LINK_PART = re.compile(r"link_(url|title_ja|title_en)_([0-9]+)")
MEETING_TEXTS = ("held_on", "format", "opened_by_ja", "opened_by_en", "summary_ja", "summary_en")
PROMOTION_TEXTS = (
    "slug",
    "title_ja",
    "title_en",
    "body_ja",
    "body_en",
    "url",
    "starts_on",
    "ends_on",
    "position",
)


@dataclass(frozen=True)
class FieldProblem:
    """Why a field was refused: `code` names the message (templates/admin/meeting_macros.html), `field` the
    form field; `chars`, `charset` and `issues` say what an unsent issue cannot carry."""

    code: str
    field: str
    detail: str = ""
    chars: str = ""
    charset: str = ""
    issues: tuple[int, ...] = ()

    @property
    def row(self) -> str:
        """The link row a link field is in ("2"), else ""."""
        found = _LINK_PART.fullmatch(self.field)
        return found.group(2) if found else ""

    @property
    def part(self) -> str:
        """A link field's part (url, title_ja, title_en), else the field itself."""
        found = _LINK_PART.fullmatch(self.field)
        return f"link_{found.group(1)}" if found else self.field


def problem_of(error: InvalidInput) -> list[FieldProblem]:
    """A use case's refusal as problems at their fields."""
    if isinstance(error, CharsetRefused):
        return [
            FieldProblem("charset", item.field, chars=item.chars, charset=item.charset, issues=item.issues)
            for item in error.found
        ]
    if isinstance(error, FieldRefused):
        return [FieldProblem(error.reason, error.field, detail=str(error))]
    return [FieldProblem("other", "", detail=str(error))]


def problems_of(refusals: Sequence[InvalidInput]) -> list[FieldProblem]:
    return [problem for refusal in refusals for problem in problem_of(refusal)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:_READ_LIMIT].replace("\r\n", "\n") if isinstance(value, str) else ""


def _checked_date(text: str, name: str, problems: list[FieldProblem], *, required: bool) -> date | None:
    """The date typed as 2026-11-20 (what a date field sends), or None with the problem noted."""
    if not text:
        if required:
            problems.append(FieldProblem("required", name))
        return None
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass  # 2026-02-30: shaped like a date, but none
    problems.append(FieldProblem("bad-date", name))
    return None


@dataclass(frozen=True)
class MeetingForm:
    """A meeting form as posted: `values` and `links` (the link rows) as typed, what could not be read, and
    the record when its key and date could be (the use case then checks the rest)."""

    values: dict[str, str]
    links: list[dict[str, str]]
    problems: list[FieldProblem] = field(default_factory=list)
    record: MeetingRecord | None = None


def _link_rows(form: FormData) -> list[dict[str, str]]:
    rows = []
    for number in range(1, _MAX_LINK_ROWS + 1):
        if f"link_url_{number}" not in form:
            break
        rows.append(
            {part: _text(form, f"link_{part}_{number}").strip() for part in ("url", "title_ja", "title_en")}
        )
    return rows


def _links(rows: list[dict[str, str]], problems: list[FieldProblem]) -> list[Link]:
    links = []
    for number, row in enumerate(rows, start=1):
        if not any(row.values()):
            continue
        if not row["url"]:
            problems.append(FieldProblem("required", f"link_url_{number}"))
        if not row["title_ja"]:
            problems.append(FieldProblem("required", f"link_title_ja_{number}"))
        links.append(Link(title_ja=row["title_ja"], title_en=row["title_en"], url=row["url"]))
    return links


def read_meeting(form: FormData, *, key: str | None) -> MeetingForm:
    """The posted meeting form; `key` is the edited meeting's (kind and number come from the address), None
    for a new one (they come from the form)."""
    values = {name: _text(form, name) for name in MEETING_TEXTS}
    for name in ("held_on", "format", "opened_by_ja", "opened_by_en"):
        values[name] = values[name].strip()
    problems: list[FieldProblem] = []
    if key is None:
        values.update(kind=_text(form, "kind").strip(), number=_text(form, "number").strip())
        if values["kind"] not in content.MEETING_KINDS:
            problems.append(FieldProblem("bad", "kind"))
        if not _WHOLE.fullmatch(values["number"]) or int(values["number"]) < 1:
            problems.append(FieldProblem("bad-number" if values["number"] else "required", "number"))
        key = f"{values['kind']}:{values['number']}"
    unreadable = bool(problems)  # no key
    held_on = _checked_date(values["held_on"], "held_on", problems, required=True)
    rows = _link_rows(form)
    links = _links(rows, problems)
    if unreadable or held_on is None:
        return MeetingForm(values, rows, problems)
    record = MeetingRecord(
        key=key,
        held_on=held_on,
        summary_ja=values["summary_ja"],
        summary_en=values["summary_en"],
        format=values["format"] or None,
        opened_by_ja=values["opened_by_ja"],
        opened_by_en=values["opened_by_en"],
        links=links,
    )
    return MeetingForm(values, rows, problems, record)


def meeting_values(meeting: Meeting) -> MeetingForm:
    """A recorded meeting as its edit form shows it, with an empty link row to add one."""
    values = {
        "held_on": meeting.held_on.isoformat(),
        "format": meeting.format or "",
        "opened_by_ja": meeting.opened_by_ja,
        "opened_by_en": meeting.opened_by_en,
        "summary_ja": meeting.summary_ja,
        "summary_en": "" if meeting.summary_en == meeting.summary_ja else meeting.summary_en,
    }
    rows = [{part: link.get(part, "") for part in ("url", "title_ja", "title_en")} for link in meeting.links]
    return MeetingForm(values, with_empty_rows(rows))


def with_empty_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows, and empty ones up to LINK_ROWS (at least one, within the form's limit)."""
    wanted = min(max(LINK_ROWS, len(rows) + 1), _MAX_LINK_ROWS)
    return rows + [{"url": "", "title_ja": "", "title_en": ""} for _ in range(wanted - len(rows))]


@dataclass(frozen=True)
class PromotionForm:
    values: dict[str, str]
    problems: list[FieldProblem] = field(default_factory=list)
    record: PromotionRecord | None = None


def read_promotion(form: FormData, *, slug: str | None) -> PromotionForm:
    """The posted promotion form; `slug` is the edited one's (it stays), None for a new one."""
    values = {name: _text(form, name) for name in PROMOTION_TEXTS}
    for name in ("slug", "title_ja", "title_en", "url", "starts_on", "ends_on", "position"):
        values[name] = values[name].strip()
    values["yearly"] = "1" if form.get("yearly") == "1" else ""
    if slug is not None:
        values["slug"] = slug
    problems: list[FieldProblem] = []
    starts_on = _checked_date(values["starts_on"], "starts_on", problems, required=False)
    ends_on = _checked_date(values["ends_on"], "ends_on", problems, required=False)
    if not _WHOLE.fullmatch(values["position"]):
        problems.append(FieldProblem("bad" if values["position"] else "required", "position"))
    if problems:  # the use case's checks need the dates and the position
        return PromotionForm(values, problems)
    fields = content.PromotionFields(
        title_ja=values["title_ja"],
        title_en=values["title_en"],
        body_ja=values["body_ja"].strip(),
        body_en=values["body_en"].strip(),
        url=values["url"],
        starts_on=starts_on,
        ends_on=ends_on,
        yearly=bool(values["yearly"]),
        position=int(values["position"]),
    )
    return PromotionForm(values, problems, PromotionRecord(values["slug"], fields))


def promotion_values(promotion: Promotion) -> PromotionForm:
    return PromotionForm(_promotion_shown(promotion))


def _promotion_shown(promotion: Promotion) -> dict[str, str]:
    shown: Mapping[str, object] = {
        "slug": promotion.slug,
        "title_ja": promotion.title_ja,
        "title_en": promotion.title_en,
        "body_ja": promotion.body_ja,
        "body_en": promotion.body_en,
        "url": promotion.url,
        "starts_on": promotion.starts_on.isoformat() if promotion.starts_on else "",
        "ends_on": promotion.ends_on.isoformat() if promotion.ends_on else "",
        "position": str(promotion.position),
        "yearly": "1" if promotion.yearly else "",
    }
    return {name: str(value) for name, value in shown.items()}


def merged(*groups: list[FieldProblem]) -> list[FieldProblem]:
    """The problems of every group, one a field (the first found): a form says one thing at each field."""
    seen: set[str] = set()
    found = []
    for problem in (problem for group in groups for problem in group):
        if problem.field not in seen or not problem.field:
            seen.add(problem.field)
            found.append(problem)
    return found


def previewing(form: FormData) -> bool:
    """Whether the form's プレビュー button was pressed: show the texts rendered, save nothing."""
    return form.get("action") == "preview"


def rendered(values: Mapping[str, str], names: tuple[str, ...]) -> dict[str, Markup]:
    """The Markdown texts as readers get them: the mail's own renderer, headings below the section's title."""
    return {name: Markup(markdown.to_html(values.get(name, ""), top_heading=3)) for name in names}  # noqa: S704 (to_html escapes raw HTML)
