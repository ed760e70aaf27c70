"""Passwords: argon2id hashes (argon2-cffi), made anew when the parameters change, and the rules they meet."""

from __future__ import annotations

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "WeakPassword",
    "check_password",
    "hash_password",
    "verify_password",
    "waste_a_verification",
]

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from outreach.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256  # a passphrase fits; a megabyte "password" is not hashed
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.cache
def _nobody() -> str:
    """Verified against when the account does not exist, so that the answer takes as long as for one that
    does; made on first use, not at import (argon2 takes 64 MiB and 0.15 s in every process that imports)."""
    return _HASHER.hash("no staff user has this password")


class WeakPassword(InvalidInput):
    """A new password that breaks a rule; the message names the rule, never the password."""


def check_password(password: str, *, email: str) -> None:
    """Refuse a password shorter than 12 characters, longer than 256, or made of the address."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password must be at most {MAX_LENGTH} characters long")
    folded = password.casefold()
    address = email.casefold()
    local = address.partition("@")[0]
    if address in folded or (len(local) >= 4 and local in folded):
        raise WeakPassword("the password must not contain the email address or its part before the @")
    if len(set(folded)) < 4:
        raise WeakPassword("the password must use more than three different characters")


def hash_password(password: str, *, hasher: PasswordHasher = _HASHER) -> str:
    return hasher.hash(password)


def verify_password(password: str, stored: str, *, hasher: PasswordHasher = _HASHER) -> tuple[bool, bool]:
    """Whether the password matches the stored hash, and whether the hash should be made again (its
    parameters are not the current ones)."""
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, hasher.check_needs_rehash(stored)


def waste_a_verification(password: str) -> None:
    """Spend the time of a verification, for an account that does not exist or may not log in."""
    verify_password(password, _nobody())
