"""What the reach pages show, in the page's words: the rows of their tables, their charts, their CSV.

The words come from templates/admin/reach_macros.html, so that a table's heading, a chart's legend and the
CSV's header say the same thing in the same language, all from the one English catalog.
"""

from __future__ import annotations

__all__ = [
    "IssueRow",
    "OrganizationRow",
    "Words",
    "issue_rows",
    "organization_charts",
    "organization_rows",
    "overview_chart",
    "reach_csv",
]

import csv
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from outreach.calendar import JST
from outreach.console.delivery_csv import BOM, inert
from outreach.console.orgscope import OrgRef
from outreach.members.charts import Chart, Series, svg
from outreach.members.reach_history import IssueReach, Point


class Words:
    """The reach pages' words in one language, read from the `word` macro."""

    def __init__(self, macros: Any, language: str) -> None:
        self._macros = macros
        self.language = language

    def __call__(self, key: str, **values: Any) -> str:
        return html.unescape(str(self._macros.word(key, **values))).strip()


@dataclass(frozen=True)
class IssueRow:
    """One sent issue, as an organization's page and CSV show it, beside the network's rates."""

    number: int
    started: str  # the day its send started, JST: 2026-11-02
    final: bool
    point: Point
    network: Point

    def rates(self, point: Point) -> dict[str, float | None]:
        return {
            "delivered": point.rate(point.delivered),
            "undelivered": point.rate(point.undelivered),
            "unsubscribed": point.rate(point.unsubscribed),
        }

    @property
    def own_rates(self) -> dict[str, float | None]:
        return self.rates(self.point)

    @property
    def network_rates(self) -> dict[str, float | None]:
        return self.rates(self.network)


@dataclass(frozen=True)
class OrganizationRow:
    """One organization's figures for the chosen issue, on the staff's overview."""

    slug: str
    name: str
    point: Point


def issue_rows(history: Sequence[IssueReach], slug: str) -> list[IssueRow]:
    return [
        IssueRow(
            reach.number,
            f"{reach.started_at.astimezone(JST):%Y-%m-%d}",
            reach.final,
            reach.of(slug),
            reach.network,
        )
        for reach in history
    ]


def organization_rows(
    reach: IssueReach, organizations: Sequence[OrgRef], language: str
) -> list[OrganizationRow]:
    return [OrganizationRow(ref.slug, ref.name(language), reach.of(ref.slug)) for ref in organizations]


def organization_charts(rows: Sequence[IssueRow], organization: str, words: Words) -> dict[str, Markup]:
    """The organization's three charts: its figures per issue, the trend of its delivered rate against the
    network's, and the latest issue's rates against the network's."""
    if not rows:
        return {}
    labels = [words("issue", number=row.number) for row in rows]
    latest = rows[-1]
    rate_keys = ("delivered", "undelivered", "unsubscribed")
    return {
        "issues": svg(
            Chart(
                key="reach-issues",
                title=words("chart_issues"),
                description=words("chart_issues_desc", organization=organization, count=len(rows)),
                labels=labels,
                series=[
                    Series(words("delivered"), [row.point.delivered for row in rows], "green"),
                    Series(words("undelivered"), [row.point.undelivered for row in rows], "red"),
                    Series(words("unsubscribed"), [row.point.unsubscribed for row in rows], "brown"),
                    Series(words("growth"), [row.point.growth for row in rows], "blue"),
                ],
            )
        ),
        "trend": svg(
            Chart(
                key="reach-trend",
                title=words("chart_trend"),
                description=words("chart_trend_desc", organization=organization),
                labels=labels,
                series=[
                    Series(organization, [row.own_rates["delivered"] for row in rows], "green"),
                    Series(words("network"), [row.network_rates["delivered"] for row in rows], "grey"),
                ],
                kind="line",
                percent=True,
                width=520,
                height=380,
            )
        ),
        "compare": svg(
            Chart(
                key="reach-compare",
                title=words("chart_compare", number=latest.number),
                description=words("chart_compare_desc", organization=organization, number=latest.number),
                labels=[words(f"{key}_rate") for key in rate_keys],
                series=[
                    Series(organization, [latest.own_rates[key] for key in rate_keys], "blue"),
                    Series(words("network"), [latest.network_rates[key] for key in rate_keys], "grey"),
                ],
                percent=True,
                width=520,
                height=380,
                options={"print_values": True},
            )
        ),
    }


_ABBREVIATION = re.compile(r".*\(([^()]{2,12})\)$")
_LONGEST_LABEL = 32


def _short(name: str) -> str:
    """A name short enough to label a bar: its abbreviation when it ends with one ("… (JETRO)"), else the
    name, cut at 32 characters; the table under the chart gives it whole."""
    found = _ABBREVIATION.fullmatch(name)
    if found:
        return found.group(1)
    return name if len(name) <= _LONGEST_LABEL else name[: _LONGEST_LABEL - 1] + "…"


def overview_chart(rows: Sequence[OrganizationRow], number: int, words: Words) -> Markup:
    """The chosen issue's delivered rate of every organization, in the network's order, top to bottom."""
    return svg(
        Chart(
            key="reach-organizations",
            title=words("chart_organizations", number=number),
            description=words("chart_organizations_desc", number=number),
            labels=[_short(row.name) for row in rows],
            series=[
                Series(
                    words("delivered_rate"), [row.point.rate(row.point.delivered) for row in rows], "green"
                )
            ],
            kind="horizontal",
            percent=True,
            height=120 + 34 * len(rows),
        )
    )


_CSV_COLUMNS = (
    "issue_column", "started", "subscribers", "delivered", "undelivered", "unsubscribed",
    "new_subscribers", "left", "growth", "forwarded", "delivered_rate", "network_delivered_rate",
)  # fmt: skip


def _cells(row: IssueRow) -> list[str]:
    point = row.point

    def shown(value: float | int | None) -> str:
        return "" if value is None else str(value)

    return [
        str(row.number),
        row.started,
        *(
            str(count)
            for count in (point.subscribers, point.delivered, point.undelivered, point.unsubscribed)
        ),
        *(str(count) for count in (point.new_subscribers, point.left, point.growth)),
        shown(point.forwarded),
        shown(row.own_rates["delivered"]),
        shown(row.network_rates["delivered"]),
    ]


def reach_csv(rows: Sequence[IssueRow], words: Words) -> str:
    """The organization's figures per issue for Excel in Japan: a BOM, the header in the page's language,
    the rates in percent; no cell a spreadsheet would run as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([inert(words(key)) for key in _CSV_COLUMNS])
    writer.writerows(_cells(row) for row in rows)  # numbers and dates of ours: nothing to make inert
    return BOM + out.getvalue()
