"""The console's addresses: its base per language, the other language's page, and safe `next` targets."""

from __future__ import annotations

__all__ = ["BASES", "base_of", "language_of", "login_url", "other_language_url", "safe_next"]

import re
from urllib.parse import urlencode

BASES = {"ja": "/admin", "en": "/en/admin"}
# A page of the console, and nothing else: no scheme, no host, no `//`, no backslash, no control character.
_LOCAL = re.compile(
    r"/(?:en/)?admin(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*)?(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?"
)
_MAX_NEXT = 500


def language_of(path: str) -> str:
    return "en" if path.startswith(BASES["en"]) else "ja"


def base_of(path: str) -> str:
    return BASES[language_of(path)]


def other_language_url(path: str, query: str) -> str:
    language = language_of(path)
    other = "ja" if language == "en" else "en"
    moved = BASES[other] + path[len(BASES[language]) :]
    return f"{moved}?{query}" if query else moved


def safe_next(value: str | None) -> str | None:
    """`value` when it is a page of the console (a local path), else None: a login sends nobody away."""
    if not value or len(value) > _MAX_NEXT or "//" in value or not _LOCAL.fullmatch(value):
        return None
    return value


def login_url(base: str, next_page: str | None = None) -> str:
    return f"{base}/login?{urlencode({'next': next_page})}" if next_page else f"{base}/login"
