"""The staff console at /admin/ (Japanese) and /en/admin/ (English): server-rendered pages behind a login."""

from outreach.console.pages import Console
from outreach.console.protocols import FormTokens

__all__ = ["Console", "FormTokens"]
