"""The errors of reading the ministry's feed: one line each, recorded in `alert_polls` before they are raised.

FeedError (OutreachError)             the feed could not be used; nothing was stored. exit 8
├── FeedUnavailable (ConnectionError) no answer in time, a refused connection, an HTTP error status, too many
│                                     redirects, a file larger than OUTREACH_ALERTS_MAX_BYTES, a missing file
└── FeedInvalid (ValueError)          the file came but is not the feed: malformed XML, a DTD or entities
                                      (an XML bomb or an external entity, refused unread), another root
"""

from __future__ import annotations

__all__ = ["FeedError", "FeedInvalid", "FeedUnavailable"]

from outreach.errors import OutreachError


class FeedError(OutreachError):
    """The feed at `source` could not be read or understood; `status` is the HTTP status, if one came."""

    exit_code = 8

    def __init__(self, source: str, message: str, *, status: int | None = None) -> None:
        self.source = source
        self.message = message
        self.status = status
        super().__init__(f"{source}: {message}")


class FeedUnavailable(FeedError, ConnectionError):
    """The feed did not arrive whole: a network problem, an HTTP error, a time-out, or too many bytes."""


class FeedInvalid(FeedError, ValueError):
    """The feed arrived but cannot be read as the ministry's open data."""
