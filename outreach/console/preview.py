"""Renditions side by side (two organizations, two languages, desktop and phone width), and test sends."""

from __future__ import annotations

__all__ = ["PreviewPages"]

from outreach.console.kit import Kit, Routes


class PreviewPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
