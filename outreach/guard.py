"""The production guard: settings fit for local work must not sign the links in mail that really goes out.

Mail goes out for real once OUTREACH_SMTP_URL names a relay. Then the links in it (unsubscribe, preferences,
confirmation) are signed with OUTREACH_SECRET_KEY and point at OUTREACH_BASE_URL, so both must be fit for the
public: a key nobody else knows, long enough not to be guessed, and an https address that readers can reach.
OUTREACH_ENV=development lets a developer mail a local test relay with local settings.
"""

from __future__ import annotations

__all__ = ["MIN_SECRET_LENGTH", "problems", "refuse_unsafe"]

import ipaddress
from urllib.parse import urlsplit

from outreach.config import Settings
from outreach.errors import UnsafeSettings

MIN_SECRET_LENGTH = 32
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


def refuse_unsafe(settings: Settings) -> None:
    """Raise UnsafeSettings (one line, naming each variable) if mail to a relay would carry unsafe links."""
    found = problems(settings)
    if found:
        raise UnsafeSettings(
            "mail goes to a real relay (OUTREACH_SMTP_URL is set), but "
            + "; ".join(found)
            + " (set OUTREACH_ENV=development to allow this for local work)"
        )


def problems(settings: Settings) -> list[str]:
    """What is unsafe about these settings for real mail; empty when mail stays local or for development."""
    if not settings.relays or settings.development:
        return []
    return [
        problem for problem in (_secret_problem(settings), _base_url_problem(settings.base_url)) if problem
    ]


def _secret_problem(settings: Settings) -> str | None:
    # Never the key itself, not even a part of it: this line ends up in terminals and logs.
    if settings.using_default_secret:
        return "OUTREACH_SECRET_KEY is unset or the development default (a public key would sign every link)"
    if len(settings.secret_key.reveal()) < MIN_SECRET_LENGTH:
        return f"OUTREACH_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def _base_url_problem(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    if parts.scheme != "https":
        return f"OUTREACH_BASE_URL is not https ({base_url})"
    host = (parts.hostname or "").rstrip(".").lower()
    if _is_local(host):
        return f"OUTREACH_BASE_URL points at a local or private address ({host}) that readers cannot reach"
    return None


def _is_local(host: str) -> bool:
    """A loopback, private, link-local or unspecified address, or a name for this machine.

    Names are not looked up: what a name resolves to here says nothing about what readers reach.
    """
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified
