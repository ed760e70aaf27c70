"""Charts as SVG made on the server (pygal), to put inline in a page: they print, and need no script.

A `Chart` says what to draw in the reader's words (its title, a sentence that describes it, the labels and
series); `svg` draws it in the console's colours and type, names it for screen readers (role="img", its
<title> and <desc>), and leaves out pygal's scripts and comments, which the console's pages have no use for.
"""

from __future__ import annotations

__all__ = ["COLOURS", "Chart", "Series", "svg"]

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pygal
from markupsafe import Markup

# The console's palette (templates/admin/style.css): blue, green, red, brown, grey.
COLOURS = {
    "blue": "#0017c1",
    "green": "#197a4b",
    "red": "#ce0000",
    "brown": "#a33000",
    "grey": "#767678",
    "navy": "#00118f",
}
# Japanese first: a font that has kana and kanji wherever the chart is drawn (screen, print, PDF).
FONTS = '"Noto Sans JP", "Hiragino Sans", "Yu Gothic", Meiryo, Arial, sans-serif'
_KEY = re.compile(r"[a-z][a-z0-9-]{0,39}")


@dataclass(frozen=True)
class Series:
    """One line or one set of bars: its name in the legend, its values (None: none), its colour's name."""

    name: str
    values: Sequence[float | int | None]
    colour: str = "blue"


@dataclass(frozen=True)
class Chart:
    """What to draw. `key` names it in the page (its id: chart-<key>); `percent` shows values as 12.5%."""

    key: str
    title: str
    description: str
    labels: Sequence[str]
    series: Sequence[Series]
    kind: Literal["bar", "line", "horizontal"] = "bar"
    percent: bool = False
    width: int = 800
    height: int = 360
    options: dict[str, Any] = field(default_factory=dict)


def _style(chart: Chart) -> Any:
    return pygal.style.Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1a1a1c",
        foreground_strong="#1a1a1c",
        foreground_subtle="#626264",
        opacity="1",
        opacity_hover="1",
        guide_stroke_color="#d8d8db",
        major_guide_stroke_color="#b4b4b7",
        guide_stroke_dasharray="none",
        major_guide_stroke_dasharray="none",
        stroke_opacity="1",
        stroke_width="3",
        stroke_width_hover="3",
        value_colors=("#ffffff",) * len(chart.series),
        colors=tuple(COLOURS.get(series.colour, series.colour) for series in chart.series),
        font_family=FONTS,
        title_font_size=18,
        legend_font_size=14,
        label_font_size=13,
        major_label_font_size=13,
        value_font_size=12,
        value_label_font_size=12,
        no_data_font_size=16,
    )


def _formatter(percent: bool) -> Any:
    def format_value(value: float | int | None) -> str:
        if value is None:
            return ""
        if percent:
            return f"{value:.1f}%"
        return f"{round(value):,}" if value == round(value) else f"{value:,.1f}"

    return format_value


def _whole_ticks(series: Sequence[Series]) -> list[int]:
    """Ticks for counts: whole numbers (no 0.2 of a company), 1, 2 or 5 times a power of ten apart."""
    values = [value for one in series for value in one.values if value is not None]
    low, high = min([0, *values]), max([1, *values])
    step = next(
        base * 10**power
        for power in range(12)
        for base in (1, 2, 5)
        if (high - low) / (base * 10**power) <= 8
    )
    first, last = math.floor(low / step) * step, math.ceil(high / step) * step
    return list(range(first, last + step, step))


def _label_room(labels: Sequence[str]) -> int:
    """The room pygal does not leave for a wide label: it reckons every character at about 0.6 of the
    font's size, but a kanji or kana takes the whole of it."""
    wide = max((sum(1 for char in label if ord(char) > 0x2E7F) for label in labels), default=0)
    return 20 + int(wide * 13 * 0.45)


def _graph(chart: Chart) -> Any:
    kinds = {"bar": pygal.Bar, "line": pygal.Line, "horizontal": pygal.HorizontalBar}
    options: dict[str, Any] = {
        "print_values": chart.kind == "horizontal",
        **({"range": (0, 100)} if chart.percent else {"y_labels": _whole_ticks(chart.series)}),
        **({"margin_left": _label_room(chart.labels)} if chart.kind == "horizontal" else {}),
        **chart.options,
    }
    graph = kinds[chart.kind](
        title=chart.title,
        style=_style(chart),
        width=chart.width,
        height=chart.height,
        disable_xml_declaration=True,
        js=[],
        print_zeroes=True,
        value_formatter=_formatter(chart.percent),
        legend_at_bottom=True,
        legend_at_bottom_columns=min(len(chart.series), 4) or None,
        truncate_legend=-1,
        truncate_label=-1,
        include_x_axis=True,
        allow_interruptions=True,
        dots_size=4,
        no_data_text="—",
        **options,
    )
    graph.uuid = chart.key  # the SVG's id is chart-<key>: stable, and its styles are scoped by it
    # A horizontal chart draws its first label at the bottom: turned over, it reads from the top.
    turned = chart.kind == "horizontal"
    graph.x_labels = list(reversed(chart.labels)) if turned else list(chart.labels)
    for series in chart.series:
        graph.add(series.name, list(reversed(series.values)) if turned else list(series.values))
    graph.add_xml_filter(lambda root: _accessible(root, chart))
    return graph


def _local(tag: Any) -> str:
    """An element's name without its namespace (pygal makes some in the SVG namespace, some in none)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _accessible(root: Any, chart: Chart) -> Any:
    """Name the chart for screen readers, and drop pygal's scripts and comments."""
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or _local(child.tag) == "script":  # a comment's tag is no name
                parent.remove(child)
    ident = f"chart-{chart.key}"
    title = next((node for node in root if _local(node.tag) == "title"), None)
    if title is None:
        title = root.makeelement("title", {})
        root.insert(0, title)
    title.text = chart.title
    title.set("id", f"{ident}-title")
    desc = root.makeelement("desc", {"id": f"{ident}-desc"})
    desc.text = chart.description
    root.insert(list(root).index(title) + 1, desc)
    root.set("role", "img")
    root.set("aria-labelledby", f"{ident}-title {ident}-desc")
    root.set("preserveAspectRatio", "xMinYMin meet")
    return root


def svg(chart: Chart) -> Markup:
    """The chart as an inline <svg> element, safe to put in a page as it is."""
    if not _KEY.fullmatch(chart.key):
        raise ValueError(f"a chart's key is lower-case letters, digits and hyphens: {chart.key!r}")
    rendered: str = _graph(chart).render(is_unicode=True)
    return Markup(rendered)  # noqa: S704 - pygal escapes every text it draws; the markup is its own
