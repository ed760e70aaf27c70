"""What the browser tests share: Debian's Chromium and its flags, the mark that skips them without it, and
the rate limits of a site they drive.

The `browser` fixture that launches it is in tests/conftest.py.
"""

from __future__ import annotations

__all__ = ["CHROMIUM", "FLAGS", "OPTIONS", "needs_chromium"]

from pathlib import Path

import pytest

from subscribers.settings import SubscriptionSettings

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Limits no test reaches: a browser test fills the forms far faster than a person would.
OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000/minute", ratelimit_per_address="1000/minute", inbound_domain="example.jp"
)

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests skipped: no /usr/bin/chromium (`apt-get install chromium`; .ci/run does it)",
)
