"""The delivery log's filters as a browser gives them (a GET form): read, checked, and kept to show again.

A value that names nothing (an unknown organization or state, an SMTP code that is neither a code like 550 nor
a class like 5xx, a page that is not a whole number) is refused with a message at its field and a 400: the
log never quietly shows rows the reader did not ask for.
"""

from __future__ import annotations

__all__ = ["ADDRESS_LENGTH", "FilterProblem", "LogQuery", "read_log_query"]

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from outreach.delivery_view import CodeFilter, LogFilters
from outreach.models import DeliveryStatus

ADDRESS_LENGTH = 254  # the longest address there is
_CODE = re.compile(r"[2-5][0-9]{2}")
_CODE_CLASS = re.compile(r"([2-5])xx")
_PAGE = re.compile(r"[1-9][0-9]{0,5}")
_STATES = {state.value: state for state in DeliveryStatus}


@dataclass(frozen=True)
class FilterProblem:
    """A filter refused: `field` is the form field, `code` names its message (admin/delivery_macros.html)."""

    field: str
    code: str


@dataclass(frozen=True)
class LogQuery:
    """The filters as typed (shown again in the form and kept in page links) and as read."""

    given: Mapping[str, str]
    filters: LogFilters
    page: int
    problems: tuple[FilterProblem, ...]

    @property
    def filtered(self) -> bool:
        return any(self.given.values())

    def params(self, **more: object) -> dict[str, object]:
        """The filters as query parameters (the empty ones left out), for links that keep them."""
        return {**{name: value for name, value in self.given.items() if value}, **more}


def _text(params: Mapping[str, str], name: str, limit: int) -> str:
    """A field's value, stripped; a value too long to be right is cut to one that still shows it is wrong."""
    return params.get(name, "").strip()[: limit + 1]


def _code(text: str) -> CodeFilter | None:
    folded = unicodedata.normalize("NFKC", text).lower()  # ５５０ or 5XX typed with a Japanese IME
    if _CODE.fullmatch(folded):
        return CodeFilter(int(folded), int(folded))
    matched = _CODE_CLASS.fullmatch(folded)
    if matched:
        hundred = int(matched.group(1)) * 100
        return CodeFilter(hundred, hundred + 99)
    return None


def read_log_query(params: Mapping[str, str], *, organizations: Collection[str]) -> LogQuery:
    """The log's filters and page from the query string; `organizations` are the slugs there are."""
    given = {
        "organization": _text(params, "organization", 40),
        "state": _text(params, "state", 20),
        "code": _text(params, "code", 10),
        "address": _text(params, "address", ADDRESS_LENGTH),
    }
    problems = []
    if given["organization"] and given["organization"] not in organizations:
        problems.append(FilterProblem("organization", "bad-organization"))
    state = _STATES.get(given["state"])
    if given["state"] and state is None:
        problems.append(FilterProblem("state", "bad-state"))
    code = _code(given["code"]) if given["code"] else None
    if given["code"] and code is None:
        problems.append(FilterProblem("code", "bad-code"))
    if len(given["address"]) > ADDRESS_LENGTH:
        problems.append(FilterProblem("address", "long-address"))
    page_text = unicodedata.normalize("NFKC", params.get("page", "").strip()[:10])
    if page_text and not _PAGE.fullmatch(page_text):
        problems.append(FilterProblem("page", "bad-page"))
    page = int(page_text) if _PAGE.fullmatch(page_text) else 1
    filters = LogFilters(given["organization"], state, code, given["address"])
    return LogQuery(given, filters, page, tuple(problems))
