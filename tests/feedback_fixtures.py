"""Bounce and complaint fixtures: what each must give (expected.toml), and the message with values filled in.

The templates in tests/fixtures/feedback/ hold {{VERP}}, {{RECIPIENT}}, {{MESSAGE_ID}} and {{FROM}};
`render` fills them in and gives the message with CRLF line ends, as it arrives over SMTP.
"""

from __future__ import annotations

__all__ = ["FIXTURES", "FIXTURE_DIR", "Expected", "expected", "render"]

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "feedback"
PLACEHOLDERS = ("{{VERP}}", "{{RECIPIENT}}", "{{MESSAGE_ID}}", "{{FROM}}")


@dataclass(frozen=True)
class Expected:
    """One fixture and what read_report must make of it (see expected.toml for each field)."""

    name: str  # the file's stem: "postfix-user-unknown"
    file: str
    kind: str  # "bounce", "complaint" or "none"
    mta: str
    bounce_class: str | None = None  # "hard", "soft" or "policy"
    status: str | None = None
    has_recipient: bool = False
    has_message_id: bool = False
    has_envelope_sender: bool = False
    feedback_type: str | None = None
    flufl: str = "none"  # what flufl.bounce.all_failures finds: "permanent", "temporary" or "none"
    note: str = ""


def _load() -> list[Expected]:
    tables: list[dict[str, Any]] = tomllib.loads((FIXTURE_DIR / "expected.toml").read_text("utf-8"))[
        "fixture"
    ]
    return [Expected(name=table["file"].removesuffix(".eml"), **table) for table in tables]


FIXTURES: list[Expected] = _load()


def expected(name: str) -> Expected:
    """The expectation of one fixture, by name ("qmail-no-mailbox", with or without ".eml")."""
    stem = name.removesuffix(".eml")
    return next(fixture for fixture in FIXTURES if fixture.name == stem)


def render(name: str, *, verp: str, recipient: str, message_id: str, sender: str) -> bytes:
    """A fixture with its placeholders filled in, with CRLF line ends."""
    template = (FIXTURE_DIR / expected(name).file).read_bytes()
    values = dict(zip(PLACEHOLDERS, (verp, recipient, message_id, sender), strict=True))
    for placeholder, value in values.items():
        template = template.replace(placeholder.encode("ascii"), value.encode("utf-8"))
    if b"{{" in template:
        raise ValueError(f"{name}: a placeholder is left unfilled")
    return template.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
