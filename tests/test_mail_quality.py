"""Mail quality: SpamAssassin (local rules only) over every organization x language rendition, and an HTML
check of each (nothing fetched from elsewhere, images described and sized, no script).

SpamAssassin is Debian's `spamassassin` package (`.ci/run` installs it); without it the SpamAssassin test is
skipped, with that reason. It runs once over an mbox of every message, with no network test (-L), no Bayes
and a home of its own, so it neither learns from these messages nor reads a developer's settings.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import select

from outreach.composer import salutation, senders
from outreach.config import Settings
from outreach.db import Database
from outreach.digest import carried_before
from outreach.issues import get_issue
from outreach.message import MessageFactory, Personal
from outreach.models import Organization
from outreach.render import Renderer, Rendition, Sender
from subscribers.links import SignedLinks

SPAMASSASSIN = shutil.which("spamassassin")
MOST = 1.0  # points: far below SpamAssassin's 5.0, so a rule that fires stands out at once
VALUES = {
    "salutation": "株式会社テスト精機 山田様",
    "email": "yamada@example.co.jp",
    "unsubscribe_url": "https://mailmag.example.jp/unsubscribe/t",
    "preferences_url": "https://mailmag.example.jp/preferences/t",
}


@dataclass(frozen=True)
class Built:
    name: str  # "jetro/ja"
    rendition: Rendition
    message: bytes


@pytest.fixture
def messages(seeded_db: Database, settings: Settings, second_issue: int) -> list[Built]:
    """Issue No. 2 (No. 1 sent before it) for a reader of every organization in both languages."""
    renderer = Renderer(sender=senders(settings))
    links = SignedLinks(settings)
    built = []
    with seeded_db.session() as session:
        issue = get_issue(session, second_issue)
        carried = carried_before(session, issue)
        organizations = session.scalars(select(Organization).order_by(Organization.position)).all()
        for organization in organizations:
            for language in ("ja", "en"):
                rendition = renderer.render(issue, organization, language, carried=carried)
                message = _message(rendition, renderer.sender[language], links)
                built.append(Built(f"{organization.slug}/{language}", rendition, message))
    assert len(built) == 2 * len(organizations) >= 60
    return built


def _message(rendition: Rendition, sender: Sender, links: SignedLinks) -> bytes:
    """The message a reader gets, as the composer builds it (without DKIM: its check needs DNS)."""
    personal = links.for_subscriber(4242, rendition.language)
    factory = MessageFactory(
        rendition, sender_name=sender.name, sender_address=sender.address, list_id="mailmag.example.jp"
    )
    return factory.build(
        Personal(
            email="yamada@example.co.jp",
            display_name="山田 太郎",
            message_id="<4f3c2a1b9d8e7f60@example.jp>",
            salutation=salutation(rendition.language, company="株式会社テスト精機", name="山田 太郎"),
            unsubscribe_url=personal.unsubscribe_url,
            unsubscribe_mailto=personal.unsubscribe_mailto,
            preferences_url=personal.preferences_url,
        ),
        now=datetime(2024, 2, 15, 0, 30, tzinfo=UTC),
    )


@dataclass(frozen=True)
class Verdict:
    score: float
    rules: dict[str, float]

    def __str__(self) -> str:
        fired = ", ".join(f"{rule} {points:+.3f}" for rule, points in sorted(self.rules.items()))
        return f"{self.score:+.1f} ({fired or 'no rule'})"


_VERDICT = re.compile(r"^X-Spam-Quality: score=(-?[\d.]+) rules=(.*)$", re.MULTILINE)


def _spamassassin(messages: list[bytes], home: Path) -> list[Verdict]:
    assert SPAMASSASSIN is not None
    mbox = b"".join(
        b"From mailmag@example.jp Thu Feb 15 09:30:00 2024\n" + message.replace(b"\r\n", b"\n") + b"\n"
        for message in messages
    )
    options = [
        "use_bayes 0",
        "bayes_auto_learn 0",
        "add_header all Quality score=_SCORE_ rules=_TESTSSCORES(,)_",
    ]
    command = [SPAMASSASSIN, "-L", "--mbox", *(f"--cf={option}" for option in options)]
    done = subprocess.run(
        command, input=mbox, capture_output=True, check=True, timeout=600, env={"HOME": str(home)}
    )
    output = re.sub(r"\n[ \t]+", " ", done.stdout.decode("utf-8", "replace"))  # unfold the header
    verdicts = []
    for score, rules in _VERDICT.findall(output):
        pairs = [pair.split("=") for pair in rules.replace(" ", "").split(",") if "=" in pair]
        verdicts.append(Verdict(float(score), {rule: float(points) for rule, points in pairs}))
    return verdicts


_SKIP = "SpamAssassin test skipped: no `spamassassin` (Debian's package; .ci/run installs it)"


@pytest.mark.skipif(SPAMASSASSIN is None, reason=_SKIP)
def test_spamassassin_scores_every_rendition_below_one_point(
    messages: list[Built], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    verdicts = _spamassassin([built.message for built in messages], tmp_path)
    assert len(verdicts) == len(messages)
    version = subprocess.check_output([SPAMASSASSIN, "--version"], text=True).split()[2]
    with capsys.disabled():
        print(f"\nSpamAssassin {version}, local rules only (-L):")
        for built, verdict in zip(messages, verdicts, strict=True):
            print(f"  {built.name:<24} {verdict}")
    high = {
        built.name: str(verdict)
        for built, verdict in zip(messages, verdicts, strict=True)
        if verdict.score >= MOST
    }
    assert high == {}


_EXTERNAL = re.compile(r"url\s*\(|@import", re.IGNORECASE)


def _html_problems(html: str) -> list[str]:
    """What would make a mail client fetch something, run something, or show an image unexplained."""
    document = lxml.html.document_fromstring(html)
    problems = [f"<{element.tag}>" for element in document.xpath("//script | //iframe | //object | //embed")]
    problems += [f"<link href={link.get('href')}>" for link in document.xpath("//link[@href]")]
    problems += [f"{attribute.attrname}=" for attribute in document.xpath("//@*[starts-with(name(), 'on')]")]
    for element in document.xpath("//*[@src or @background or @srcset]"):
        source = str(element.get("src") or element.get("background") or element.get("srcset"))
        if element.tag != "img" or source.startswith(("http:", "https:", "//")):
            problems.append(f"<{element.tag}> from {source}")
    for image in document.xpath("//img"):
        if image.get("alt") is None or not (image.get("width") and image.get("height")):
            problems.append(f"<img src={image.get('src')}> without alt, width and height")
    styles = [str(value) for value in document.xpath("//@style")]
    styles += [style.text or "" for style in document.iter("style")]
    problems += [f"style {style[:40]!r}" for style in styles if _EXTERNAL.search(style)]
    problems += [
        f"link {href}" for href in document.xpath("//a/@href") if not href.startswith(("https:", "mailto:"))
    ]
    return problems


def test_the_html_check_finds_what_it_looks_for() -> None:
    bad = (
        '<html><head><link rel="stylesheet" href="https://cdn.example/x.css"></head><body onload="x()">'
        '<script>1</script><img src="https://track.example/p.gif"><img src="cid:logo" alt="">'
        '<p style="background:url(https://x.example/b.png)">x</p><a href="http://plain.example/">x</a></body></html>'
    )
    assert _html_problems(bad) == [
        "<script>",
        "<link href=https://cdn.example/x.css>",
        "onload=",
        "<img> from https://track.example/p.gif",
        "<img src=https://track.example/p.gif> without alt, width and height",
        "<img src=cid:logo> without alt, width and height",
        "style 'background:url(https://x.example/b.png)'",
        "link http://plain.example/",
    ]


def test_the_html_fetches_nothing_describes_and_sizes_images_and_runs_no_script(
    messages: list[Built],
) -> None:
    found = {built.name: _html_problems(built.rendition.html.fill(VALUES)) for built in messages}
    assert {name: problems for name, problems in found.items() if problems} == {}
