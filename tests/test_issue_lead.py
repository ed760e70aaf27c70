"""An issue's editorial lead (Markdown, per language) at the top of each rendition, its charset checked; and
the promotions an issue carries, chosen by slug (every one active on the date when none are chosen)."""

from __future__ import annotations

from datetime import date

import lxml.html
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from outreach.cli import cli
from outreach.composer import senders
from outreach.config import Settings
from outreach.content import promotions_active_on
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.issue_charsets import CharsetRefused
from outreach.issues import get_issue
from outreach.models import Issue, Organization, utcnow
from outreach.render import Renderer
from outreach.staff import audit
from outreach.usecases import drafts
from tests.conftest import snapshot

FEBRUARY = date(2024, 2, 15)
VALUES = {"salutation": "山田様", "email": "y@example.jp", "unsubscribe_url": "u", "preferences_url": "p"}
LEAD_JA = "いつもご愛読ありがとうございます。\n\n今号は**第8回本会合**の結果をお届けします。"
LEAD_EN = "Thank you for reading.\n\nThis issue brings the outcome of **Plenary 8**."


def _compose(db: Database, **options: object) -> int:
    with db.session() as session:
        draft = drafts.NewDraft(meetings=["plenary:8"], issue_date=FEBRUARY, **options)  # type: ignore[arg-type]
        return drafts.compose(session, draft).issue.number


def _issue(db: Database, number: int) -> Issue:
    with db.session() as session:
        return get_issue(session, number)


def _parts(db: Database, settings: Settings, number: int, language: str) -> tuple[str, str, str]:
    """(the visible text of the HTML body, the text part, the HTML source) of the network's rendition."""
    issue = _issue(db, number)
    with db.session() as session:
        network = session.scalars(select(Organization).where(Organization.slug == "network")).one()
    rendition = Renderer(sender=senders(settings)).render(issue, network, language)
    html = rendition.html.fill(VALUES)
    body = lxml.html.document_fromstring(html).find("body")
    assert body is not None
    return body.text_content(), rendition.text.fill(VALUES), html


def test_the_lead_opens_each_language_in_both_parts(seeded_db: Database, settings: Settings) -> None:
    number = _compose(seeded_db, lead_ja=LEAD_JA, lead_en=LEAD_EN)
    ja_html, ja_text, ja_source = _parts(seeded_db, settings, number, "ja")
    en_html, en_text, _ = _parts(seeded_db, settings, number, "en")

    assert "<strong>第8回本会合</strong>" in ja_source  # Markdown, rendered
    assert ja_html.index("今号は第8回本会合の結果") < ja_html.index("会合結果")  # above the sections
    assert "今号は第8回本会合の結果をお届けします。" in ja_text
    assert "**" not in ja_text
    assert ja_text.index("いつもご愛読") < ja_text.index("=" * 60)
    assert "Plenary 8" in en_html
    assert "This issue brings the outcome of Plenary 8." in en_text
    assert "いつもご愛読" not in en_html + en_text  # never the Japanese in English
    assert 'class="preheader"' in ja_source
    assert ">いつもご愛読ありがとうございます。" in ja_source  # the inbox preview is the lead's first line


def test_an_english_rendition_without_an_english_lead_has_none(
    seeded_db: Database, settings: Settings
) -> None:
    number = _compose(seeded_db, lead_ja=LEAD_JA)
    plain = _compose(seeded_db)
    en_html, en_text, en_source = _parts(seeded_db, settings, number, "en")
    _, plain_text, _ = _parts(seeded_db, settings, plain, "en")

    assert "issue-lead" not in en_source
    assert "いつもご愛読" not in en_html + en_text
    assert en_text.replace("No. 1", "No. 2") == plain_text  # just as without a lead


def test_a_lead_the_charset_cannot_carry_is_refused_naming_it(seeded_db: Database) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(CharsetRefused) as caught:
        _compose(seeded_db, lead_en="Café ～ news", charset="iso-2022-jp")
    assert "é (U+00E9) in the English lead" in str(caught.value)
    assert caught.value.parts == {"lead_en"}
    assert snapshot(seeded_db) == before

    number = _compose(seeded_db, lead_ja="お知らせ～", charset="iso-2022-jp")
    with seeded_db.session() as session:
        review = drafts.review(session, number)
    assert review.substitutions == ["～ → 〜 in the Japanese lead"]


def test_edit_changes_or_clears_a_lead_and_an_empty_subject_is_derived_again(seeded_db: Database) -> None:
    number = _compose(seeded_db, lead_ja=LEAD_JA, subject_ja="【臨時号】ご報告")
    with seeded_db.session() as session:
        drafts.edit(session, number, drafts.DraftChanges(lead_ja="  ", lead_en="Hello.\r\n", subject_ja=""))
    issue = _issue(seeded_db, number)
    assert (issue.lead_ja, issue.lead_en) == ("", "Hello.")
    assert issue.subject_ja == "【海外安全メールマガジン 第1号】第8回本会合の開催結果"
    with pytest.raises(InvalidInput, match="at most 4000 characters"), seeded_db.session() as session:
        drafts.edit(session, number, drafts.DraftChanges(lead_ja="あ" * 4001))


def test_chosen_promotions_replace_every_active_one_in_their_own_order(seeded_db: Database) -> None:
    every = _compose(seeded_db)
    chosen = _compose(seeded_db, promotions=["awareness-flyer", "tabireg"])
    none = _compose(seeded_db, promotions=[])
    with seeded_db.session() as session:
        active = [promotion.slug for promotion in promotions_active_on(session, FEBRUARY)]

    def slugs(number: int) -> list[str]:
        return [item.promotion.slug for item in _issue(seeded_db, number).items if item.promotion is not None]

    assert slugs(every) == active
    assert slugs(chosen) == ["tabireg", "awareness-flyer"]
    assert slugs(none) == []

    with seeded_db.session() as session:  # kept across an edit of the subject, replaced when given
        drafts.edit(session, chosen, drafts.DraftChanges(subject_en="News"))
    assert slugs(chosen) == ["tabireg", "awareness-flyer"]
    with seeded_db.session() as session:
        drafts.edit(session, chosen, drafts.DraftChanges(promotions=["golgo13-manual"]))
    assert slugs(chosen) == ["golgo13-manual"]


@pytest.mark.parametrize(
    ("slugs", "error", "message"),
    [
        (["tabireg", "no-such-tool", "nor-this"], NotFound, "no promotion 'no-such-tool', 'nor-this'"),
        (["summer-safety-month"], InvalidInput, "summer-safety-month is not active on 2024-02-15"),
    ],
)
def test_an_unknown_or_inactive_promotion_is_refused_naming_it(
    seeded_db: Database, slugs: list[str], error: type[Exception], message: str
) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(error, match=message):
        _compose(seeded_db, promotions=slugs)
    assert snapshot(seeded_db) == before


def test_delete_as_is_audited_with_the_freed_number(seeded_db: Database) -> None:
    number = _compose(seeded_db)
    with seeded_db.session() as session:
        deleted = drafts.delete_as(session, number, "staff:a@example.jp", now=utcnow(), ip="192.0.2.1")
    with seeded_db.session() as session:
        (entry,) = audit.read_page(session).entries
    assert str(deleted) == "deleted draft No. 1; the next issue composed is No. 1 again"
    assert (entry.action, entry.actor, entry.target, entry.ip) == (
        "issue.delete",
        "staff:a@example.jp",
        "issue No. 1",
        "192.0.2.1",
    )


def test_the_cli_composes_and_edits_with_a_lead_and_chosen_promotions(
    env: dict[str, str], seeded_db: Database
) -> None:
    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    composed = run(
        "issue", "compose", "--meeting", "plenary:8", "--date", "2024-02-15",
        "--lead-ja", "今号のご案内", "--promotion", "tabireg",
    )  # fmt: skip
    assert "lead (ja): 今号のご案内" in composed
    assert "promotion tabireg" in composed
    assert composed.count("  - promotion ") == 1
    edited = run("issue", "edit", "1", "--lead-en", "This issue", "--no-promotions")
    assert "lead (en): This issue" in edited
    assert "  - promotion " not in edited
    run("issue", "delete", "1")
    with seeded_db.session() as session:
        assert next(entry.action for entry in audit.read_page(session).entries) == "issue.delete"
