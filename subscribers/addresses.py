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


def _hidden_character_problem(text: str) -> str | None:
    """Why `text` cannot be an address if it holds a control or an invisible format character, else None.

    Format characters (bidi overrides and isolates, zero-width spaces and joiners, direction marks, a BOM)
    show nothing, so an address holding one looks like another; they come from text pasted out of a document.
    """
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            return f"it contains the control character {_describe(char)} (such as CR, LF, TAB or NUL)"
        if category == "Cf":
            return f"it contains the invisible character {_describe(char)}; type the address again by hand"
    return None


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def normalize_address(raw: str) -> str:
    """Return the one key for an address: lowercased, domain in ASCII (IDNA) form.

    Control and invisible format characters are refused anywhere, even at the ends, so that `"a@b.jp\\r\\n"`
    can never slip through as a header injection, nor a bidi override make one address look like another;
    other surrounding whitespace (also U+3000) is stripped.
    """
    hidden = _hidden_character_problem(raw)
    if hidden is not None:
        raise InvalidAddress(raw, hidden)
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
