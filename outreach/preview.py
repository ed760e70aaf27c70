"""Previews: a rendition filled with sample personal parts, as staff check an issue before it goes out."""

from __future__ import annotations

__all__ = ["filled", "sample_values", "write_preview"]

from pathlib import Path

from outreach.composer import salutation
from outreach.render import Rendition


def sample_values(language: str, base_url: str) -> dict[str, str]:
    """A made-up recipient: what each personal part of a preview shows."""
    ja = language == "ja"
    return {
        "salutation": salutation(
            language,
            company="株式会社サンプル" if ja else "Sample Co., Ltd.",
            name="海外 太郎" if ja else "Taro Kaigai",
        ),
        "email": "preview@example.jp",
        "unsubscribe_url": f"{base_url}/unsubscribe/PREVIEW",
        "preferences_url": f"{base_url}/preferences/PREVIEW",
    }


def filled(rendition: Rendition, *, base_url: str, text: bool = False) -> str:
    """The HTML (or the plain text) a recipient of the rendition would see: for a file or a page."""
    stamp = rendition.text if text else rendition.html
    return stamp.fill(sample_values(rendition.language, base_url))


def write_preview(rendition: Rendition, path: Path, *, base_url: str, text: bool = False) -> Path:
    """Write the HTML (or the plain text) a recipient of the rendition would see."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(filled(rendition, base_url=base_url, text=text), encoding="utf-8")
    return path
