"""Watching a send: the live progress page and the delivery log (filters, paging, CSV export)."""

from __future__ import annotations

__all__ = ["DeliveryPages"]

from outreach.console.kit import Kit, Routes


class DeliveryPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
