"""The second factor: time-based one-time codes (RFC 6238, pyotp), each good once."""

from __future__ import annotations

__all__ = ["ISSUER", "STEP_SECONDS", "accepted_step", "new_secret", "provisioning_uri"]

import hmac
import re
from datetime import datetime

import pyotp

ISSUER = "SME Overseas Safety Network"
STEP_SECONDS = 30
_DRIFT_STEPS = 1  # a phone's clock may be one step (30 s) behind or ahead
_CODE = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    """160 random bits in base32, the length RFC 4226 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, email: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=email, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to when it is right and newer than the last accepted one, else None.

    Spaces in the code are ignored (apps show `123 456`); a code already used is refused, so a code seen
    over someone's shoulder cannot be used again within its window.
    """
    code = "".join(code.split())
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step if last_step is None or step > last_step else None
    return None
