"""Staff users: add, list, disable and enable, set a password, enrol a second factor, authenticate.

The only writer of `staff_users`. Every change writes an audit event in the same transaction; a failed
login counts against the account, and enough of them in a row lock it for a while.
"""

from __future__ import annotations

__all__ = [
    "ANONYMOUS",
    "NewUser",
    "StaffView",
    "TotpEnrolment",
    "add_user",
    "authenticate",
    "check_new_user",
    "disable_user",
    "enable_user",
    "enrol_totp",
    "find_user",
    "list_users",
    "normalize_email",
    "set_password",
    "staff_view",
]

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from outreach.errors import InvalidInput, NotFound
from outreach.models import Organization
from outreach.staff import audit, sessions, totp
from outreach.staff.models import StaffRole, StaffUser
from outreach.staff.passwords import check_password, hash_password, verify_password, waste_a_verification
from outreach.staff.settings import StaffSettings

ANONYMOUS = "anonymous"  # the actor of a failed login: whoever typed it, not the account's owner
_MAX_EMAIL = 254
_MAX_NAME = 200


@dataclass(frozen=True)
class StaffView:
    """A staff user as the console and the CLI show it: never the hash or the TOTP secret."""

    id: int
    email: str
    name: str
    role: StaffRole
    organization: str | None  # the slug, for an org-editor
    disabled: bool
    locked_until: datetime | None
    totp_enrolled: bool
    created_at: datetime
    last_login_at: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def shown_name(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class NewUser:
    email: str
    role: StaffRole
    password: str
    name: str = ""
    organization: str | None = None  # a slug; required for an org-editor, refused for the other roles


@dataclass(frozen=True)
class TotpEnrolment:
    """What to show the user once: the URI for a QR code, and the secret for typing in by hand."""

    uri: str
    secret: str


def staff_view(user: StaffUser) -> StaffView:
    return StaffView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        organization=user.organization.slug if user.organization is not None else None,
        disabled=user.disabled,
        locked_until=user.locked_until,
        totp_enrolled=user.totp_secret is not None,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def normalize_email(raw: str) -> str:
    """A staff user's address as stored: checked, lower case, domain in ASCII."""
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in raw):
        raise InvalidInput("the email address contains a control or invisible character")
    text = raw.strip()
    if len(text) > _MAX_EMAIL:
        raise InvalidInput(f"the email address is longer than {_MAX_EMAIL} characters")
    try:
        validated = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidInput(f"{text!r} is not a usable email address: {error}") from None
    return validated.normalized.lower()


def find_user(session: Session, email: str) -> StaffUser | None:
    """The user with this address as typed (any case, spaces around), or None."""
    return session.scalar(
        select(StaffUser)
        .where(StaffUser.email == email.strip().lower())
        .options(selectinload(StaffUser.organization))
    )


def _user(session: Session, email: str) -> StaffUser:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"there is no staff user {email.strip()!r}; `outreach users list` shows them")
    return user


def _end_sessions(
    session: Session, user: StaffUser, action: str, *, actor: str, now: datetime, ip: str | None
) -> None:
    """End the user's open sessions and log `action` with how many ended."""
    detail = f"{sessions.close_all(session, user.id)} session(s) ended"
    audit.record(session, actor=actor, action=action, target=user.email, detail=detail, ip=ip, now=now)


def _organization_id(session: Session, role: StaffRole, slug: str | None) -> int | None:
    if role is not StaffRole.ORG_EDITOR:
        if slug is not None:
            raise InvalidInput("--org is only for the org-editor role")
        return None
    if not slug:
        raise InvalidInput("an org-editor needs --org SLUG: the organization whose pages they edit")
    found = session.scalar(select(Organization.id).where(Organization.slug == slug.strip().lower()))
    if found is None:
        raise NotFound(f"there is no organization {slug!r}; `outreach org list` shows them")
    return found


def _checked_new(
    session: Session, email: str, role: StaffRole, organization: str | None
) -> tuple[str, int | None]:
    address = normalize_email(email)
    if find_user(session, address) is not None:
        raise InvalidInput(f"there is already a staff user {address}")
    return address, _organization_id(session, role, organization)


def check_new_user(session: Session, email: str, role: StaffRole, organization: str | None) -> str:
    """The address as it will be stored, once it is usable and free and the role's organization is right;
    InvalidInput (NotFound for an unknown organization) otherwise. Changes nothing."""
    return _checked_new(session, email, role, organization)[0]


def add_user(
    session: Session, new: NewUser, *, actor: str, now: datetime, ip: str | None = None
) -> StaffView:
    """Add a user, or refuse (InvalidInput) an address already there, a weak password, a missing --org."""
    email, organization_id = _checked_new(session, new.email, new.role, new.organization)
    name = " ".join(new.name.split())
    if len(name) > _MAX_NAME:
        raise InvalidInput(f"the name is longer than {_MAX_NAME} characters")
    check_password(new.password, email=email)
    user = StaffUser(
        email=email,
        name=name,
        role=new.role,
        organization_id=organization_id,
        password_hash=hash_password(new.password),
        disabled=False,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    session.flush()
    session.refresh(user, ["organization"])
    added = staff_view(user)
    where = f", organization {added.organization}" if added.organization else ""
    detail = f"role {added.role.value}{where}"
    audit.record(session, actor=actor, action="user.add", target=email, detail=detail, ip=ip, now=now)
    return added


def list_users(session: Session) -> list[StaffView]:
    users = session.scalars(
        select(StaffUser).order_by(StaffUser.email).options(selectinload(StaffUser.organization))
    )
    return [staff_view(user) for user in users]


def disable_user(
    session: Session, email: str, *, actor: str, now: datetime, ip: str | None = None
) -> tuple[StaffView, bool]:
    """Disable a user and end their sessions; the view, and False when they were disabled already."""
    user = _user(session, email)
    if user.disabled:
        return staff_view(user), False
    user.disabled = True
    _end_sessions(session, user, "user.disable", actor=actor, now=now, ip=ip)
    return staff_view(user), True


def enable_user(
    session: Session, email: str, *, actor: str, now: datetime, ip: str | None = None
) -> tuple[StaffView, bool]:
    """Enable a user and lift a lockout; the view, and False when there was nothing to do."""
    user = _user(session, email)
    locked = user.locked_until is not None and now < user.locked_until
    if not user.disabled and not locked and user.failed_logins == 0:
        return staff_view(user), False
    was = [state for state, held in (("disabled", user.disabled), ("locked", locked)) if held]
    detail = f"was {' and '.join(was)}" if was else None
    user.disabled = False
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="user.enable", target=user.email, detail=detail, ip=ip, now=now)
    return staff_view(user), True


def set_password(
    session: Session, email: str, password: str, *, actor: str, now: datetime, ip: str | None = None
) -> StaffView:
    """Give a user a new password (checked like a new one); their open sessions end."""
    user = _user(session, email)
    check_password(password, email=user.email)
    user.password_hash = hash_password(password)
    _end_sessions(session, user, "user.password", actor=actor, now=now, ip=ip)
    return staff_view(user)


def enrol_totp(
    session: Session, email: str, *, actor: str, now: datetime, ip: str | None = None
) -> TotpEnrolment:
    """A new TOTP secret for the user (replacing any old one); from now on their login asks for a code."""
    user = _user(session, email)
    secret = totp.new_secret()
    replaced = user.totp_secret is not None
    user.totp_secret = secret
    user.totp_last_step = None
    detail = "replaced the earlier secret" if replaced else "enrolled"
    audit.record(session, actor=actor, action="user.totp", target=user.email, detail=detail, ip=ip, now=now)
    return TotpEnrolment(totp.provisioning_uri(secret, email=user.email), secret)


def _usable(user: StaffUser | None, now: datetime) -> bool:
    return user is not None and not user.disabled and (user.locked_until is None or now >= user.locked_until)


def authenticate(
    session: Session,
    email: str,
    password: str,
    code: str,
    *,
    now: datetime,
    ip: str | None,
    settings: StaffSettings,
) -> StaffView | None:
    """The user when the address, the password and (once enrolled) the TOTP code are right; else None.

    A wrong password or code counts a failure against the account; the Nth in a row locks it for a while.
    A disabled or locked account, or an address nobody has, is refused after the same work, so neither the
    answer nor its time says which part was wrong or whether the account exists. A right password whose
    hash has old parameters is hashed again.
    """
    user = find_user(session, email)
    if user is None or not _usable(user, now):
        waste_a_verification(password)
        return None
    matches, stale = verify_password(password, user.password_hash)
    code_ok, step = _second_factor(user, code, now=now) if matches else (False, None)
    if not (matches and code_ok):
        why = "code" if matches else "password"
        _count_failure(session, user, now=now, ip=ip, settings=settings, why=why)
        return None
    if stale:
        user.password_hash = hash_password(password)
    if step is not None:
        user.totp_last_step = step
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return staff_view(user)


def _second_factor(user: StaffUser, code: str, *, now: datetime) -> tuple[bool, int | None]:
    """Whether the code is right (always, with no second factor enrolled), and its time step to remember."""
    if user.totp_secret is None:
        return True, None
    step = totp.accepted_step(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    return step is not None, step


def _count_failure(
    session: Session, user: StaffUser, *, now: datetime, ip: str | None, settings: StaffSettings, why: str
) -> None:
    record = partial(audit.record, session, actor=ANONYMOUS, target=user.email, ip=ip, now=now)
    user.failed_logins += 1
    record(action="login.failed", detail=f"wrong {why} ({user.failed_logins} of {settings.lockout_failures})")
    if user.failed_logins < settings.lockout_failures:
        return
    user.failed_logins = 0  # after the lock, the next N tries count afresh
    user.locked_until = now + settings.lockout
    minutes = int(settings.lockout.total_seconds() // 60)
    record(action="login.locked", detail=f"locked for {minutes} minutes")
