"""Normalising and validating the email address of a subscriber."""

from __future__ import annotations

__all__ = ["MAX_ADDRESS_LENGTH", "InvalidAddress", "normalize_address"]

import unicodedata

from email_validator import EmailNotValidError, validate_email

from outreach.errors import InvalidInput

MAX_ADDRESS_LENGTH = 254


class InvalidAddress(InvalidInput):
    """An email address that cannot be used; `address` is the text as given, `reason` says why."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"{address!r} is not a usable email address: {reason}")


def _has_control_character(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in text)


def normalize_address(raw: str) -> str:
    """Return the one key for an address: lowercased, domain in ASCII (IDNA) form.

    Control characters are refused anywhere, even at the ends, so that `"a@b.jp\\r\\n"` can never slip
    through as a header injection; other surrounding whitespace (also U+3000) is stripped.
    """
    if _has_control_character(raw):
        raise InvalidAddress(raw, "it contains a control character (such as CR, LF, TAB or NUL)")
    address = raw.strip()
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(raw, f"it is longer than {MAX_ADDRESS_LENGTH} characters")
    try:
        validated = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidAddress(raw, str(error)) from error
    if validated.ascii_email is None:  # email-validator refuses these already with allow_smtputf8=False
        raise InvalidAddress(raw, "the part before the @-sign must be ASCII")
    return validated.ascii_email.lower()
