"""The public web pages for subscribers: subscribe, confirm, choose, leave, and read the archive."""

from __future__ import annotations

__all__ = ["create_app"]

from subscribers.web.app import create_app
