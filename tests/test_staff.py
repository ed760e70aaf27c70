"""Staff users against real databases: passwords, lockout, TOTP codes computed by pyotp, sessions under an
injected clock, the audit log, the settings, and the migration that agrees with the models."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.models import Base
from outreach.staff import audit, login, sessions, totp
from outreach.staff import users as staff_users
from outreach.staff.models import AuditEvent, StaffRole, StaffSession, StaffUser
from outreach.staff.passwords import WeakPassword, check_password, hash_password, verify_password
from outreach.staff.roles import Permission, allows, home_permission
from outreach.staff.settings import StaffSettings, load_staff_settings
from outreach.staff.users import NewUser, StaffView
from tests.conftest import snapshot

PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 09:00 JST
SETTINGS = StaffSettings(lockout_failures=3, lockout=timedelta(minutes=15))
STAFF_TABLES = {"staff_users", "staff_sessions", "audit_events"}


def add(
    db: Database,
    email: str = "a@example.jp",
    role: StaffRole = StaffRole.STAFF,
    *,
    organization: str | None = None,
    password: str = PASSWORD,
) -> StaffView:
    with db.session() as session:
        new = NewUser(email, role, password, name="山田 太郎", organization=organization)
        return staff_users.add_user(session, new, actor="cli:tester", now=T0)


def authenticate(
    db: Database, email: str, password: str = PASSWORD, code: str = "", *, now: datetime = T0
) -> StaffView | None:
    with db.session() as session:
        return staff_users.authenticate(
            session, email, password, code, now=now, ip="192.0.2.1", settings=SETTINGS
        )


def user_row(db: Database, email: str = "a@example.jp") -> StaffUser:
    with db.session() as session:
        found = session.scalar(select(StaffUser).where(StaffUser.email == email))
        assert found is not None
        return found


def actions(db: Database) -> list[tuple[str, str, str | None]]:
    with db.session() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id)
        )
        return [(actor, action, target) for actor, action, target in rows]


# The schema


def test_the_migration_makes_the_tables_the_models_declare(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert set(Base.metadata.tables) >= STAFF_TABLES


def test_an_org_editor_without_an_organization_is_refused_by_the_database(db: Database) -> None:
    row = {"email": "x@example.jp", "name": "", "role": "org-editor", "password_hash": "x", "disabled": False}
    with pytest.raises(IntegrityError), db.session() as session:
        session.execute(insert(StaffUser).values(**row, failed_logins=0, created_at=T0))


# Passwords


def test_a_password_is_hashed_with_argon2id_and_verified() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(PASSWORD, stored) == (True, False)
    assert verify_password("wrong horse battery staple", stored) == (False, False)
    assert verify_password(PASSWORD, "not a hash") == (False, False)


def test_a_hash_with_old_parameters_asks_to_be_made_again() -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    assert verify_password(PASSWORD, hash_password(PASSWORD, hasher=cheap)) == (True, True)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pass1", "at least 12"),
        ("x" * 257, "at most 256"),
        ("tanaka.ichiro-2026", "email address"),
        ("my tanaka.ichiro@example.jp!", "email address"),
        ("TANAKA.ICHIRO rules", "email address"),
        ("abababababababab", "more than three"),
    ],
)
def test_weak_passwords_are_refused_naming_the_rule(password: str, why: str) -> None:
    with pytest.raises(WeakPassword, match=why) as refused:
        check_password(password, email="tanaka.ichiro@example.jp")
    assert password not in str(refused.value)


def test_good_passwords_pass() -> None:
    check_password(PASSWORD, email="tanaka.ichiro@example.jp")
    check_password("海外安全対策ネットワーク2026年", email="tanaka.ichiro@example.jp")
    check_password("ito and tea time", email="ito@example.jp")  # a local part under 4 characters may occur


# Users


def test_adding_a_user_stores_a_hash_and_an_audit_event(seeded_db: Database) -> None:
    added = add(seeded_db, " A@Example.JP ")
    assert (added.email, added.role, added.organization, added.totp_enrolled) == (
        "a@example.jp",
        StaffRole.STAFF,
        None,
        False,
    )
    row = user_row(seeded_db)
    assert row.password_hash.startswith("$argon2id$")
    assert actions(seeded_db) == [("cli:tester", "user.add", "a@example.jp")]
    editor = add(seeded_db, "jetro@example.jp", StaffRole.ORG_EDITOR, organization="jetro")
    assert editor.organization == "jetro"


@pytest.mark.parametrize(
    ("email", "role", "organization", "error", "message"),
    [
        ("not-an-address", StaffRole.STAFF, None, InvalidInput, "not a usable email address"),
        ("a@example.jp\r\nBcc: x@example.jp", StaffRole.STAFF, None, InvalidInput, "control"),
        ("a@example.jp", StaffRole.STAFF, None, InvalidInput, "already a staff user"),
        ("b@example.jp", StaffRole.ORG_EDITOR, None, InvalidInput, "needs --org"),
        ("b@example.jp", StaffRole.ORG_EDITOR, "nosuch", NotFound, "no organization 'nosuch'"),
        ("b@example.jp", StaffRole.APPROVER, "jetro", InvalidInput, "only for the org-editor"),
    ],
)
def test_bad_new_users_are_refused_and_change_nothing(
    seeded_db: Database,
    email: str,
    role: StaffRole,
    organization: str | None,
    error: type[Exception],
    message: str,
) -> None:
    add(seeded_db)
    before = snapshot(seeded_db)
    with pytest.raises(error, match=message):
        add(seeded_db, email, role, organization=organization)
    assert snapshot(seeded_db) == before


def test_a_weak_password_for_a_new_user_changes_nothing(seeded_db: Database) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(WeakPassword):
        add(seeded_db, password="a@example.jp is me")
    assert snapshot(seeded_db) == before


def test_disable_ends_sessions_and_enable_lifts_a_lock(db: Database) -> None:
    user = add(db)
    with db.session() as session:
        session_id = sessions.open_session(session, user.id, ip=None, now=T0, settings=SETTINGS)
    with db.session() as session:
        _, changed = staff_users.disable_user(session, "a@example.jp", actor="cli:tester", now=T0)
    assert changed
    with db.session() as session:
        assert sessions.find(session, session_id, now=T0, settings=SETTINGS) is None
        assert staff_users.disable_user(session, "a@example.jp", actor="cli:tester", now=T0)[1] is False
    assert authenticate(db, "a@example.jp") is None
    with db.session() as session:
        view, changed = staff_users.enable_user(session, "a@example.jp", actor="cli:tester", now=T0)
    assert changed
    assert not view.disabled
    assert authenticate(db, "a@example.jp") is not None
    assert [action for _, action, _ in actions(db)] == ["user.add", "user.disable", "user.enable"]


def test_a_new_password_ends_the_users_sessions(db: Database) -> None:
    user = add(db)
    with db.session() as session:
        session_id = sessions.open_session(session, user.id, ip=None, now=T0, settings=SETTINGS)
        staff_users.set_password(session, user.email, "a brand new passphrase", actor="cli:tester", now=T0)
    with db.session() as session:
        assert sessions.find(session, session_id, now=T0, settings=SETTINGS) is None
    assert authenticate(db, user.email) is None
    assert authenticate(db, user.email, "a brand new passphrase") is not None


def test_unknown_users_are_not_found(db: Database) -> None:
    with db.session() as session, pytest.raises(NotFound, match="users list"):
        staff_users.disable_user(session, "nobody@example.jp", actor="cli:tester", now=T0)


# Authentication and lockout


def test_a_right_password_logs_in_and_resets_the_count(db: Database) -> None:
    add(db)
    assert authenticate(db, "a@example.jp", "wrong password here") is None
    assert user_row(db).failed_logins == 1
    found = authenticate(db, " A@EXAMPLE.JP ")
    assert found is not None
    assert found.email == "a@example.jp"
    row = user_row(db)
    assert (row.failed_logins, row.last_login_at) == (0, T0)


def test_n_failures_lock_the_account_for_the_lockout_time(db: Database) -> None:
    add(db)
    for _ in range(SETTINGS.lockout_failures):
        assert authenticate(db, "a@example.jp", "wrong password here") is None
    row = user_row(db)
    assert row.locked_until == T0 + SETTINGS.lockout
    before = snapshot(db)
    assert (
        authenticate(db, "a@example.jp", now=T0 + timedelta(minutes=14)) is None
    )  # the right password, locked
    assert snapshot(db) == before  # a refusal while locked counts nothing: the lock is not extended
    assert authenticate(db, "a@example.jp", now=T0 + timedelta(minutes=15)) is not None
    assert [action for _, action, _ in actions(db)] == [
        "user.add",
        "login.failed",
        "login.failed",
        "login.failed",
        "login.locked",
    ]
    assert {actor for actor, action, _ in actions(db) if action.startswith("login.")} == {"anonymous"}


def test_an_unknown_address_changes_nothing(db: Database) -> None:
    add(db)
    before = snapshot(db)
    assert authenticate(db, "nobody@example.jp") is None
    assert authenticate(db, "") is None
    assert snapshot(db) == before


def test_a_stale_hash_is_made_again_at_login(db: Database) -> None:
    add(db)
    cheap = hash_password(PASSWORD, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with db.session() as session:
        session.execute(update(StaffUser).values(password_hash=cheap))
    assert authenticate(db, "a@example.jp") is not None
    assert user_row(db).password_hash != cheap
    assert verify_password(PASSWORD, user_row(db).password_hash) == (True, False)


# TOTP


def _enrol(db: Database) -> pyotp.TOTP:
    add(db)
    with db.session() as session:
        enrolment = staff_users.enrol_totp(session, "a@example.jp", actor="cli:tester", now=T0)
    parsed = pyotp.parse_uri(enrolment.uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == enrolment.secret
    assert "issuer=SME%20Overseas%20Safety%20Network" in enrolment.uri
    assert "a%40example.jp" in enrolment.uri
    return parsed


def test_once_enrolled_a_login_needs_the_code(db: Database) -> None:
    app = _enrol(db)
    assert authenticate(db, "a@example.jp") is None  # no code
    assert authenticate(db, "a@example.jp", code="000000" if app.at(T0) != "000000" else "111111") is None
    assert user_row(db).failed_logins == 2
    code = app.at(T0)
    found = authenticate(db, "a@example.jp", code=f"{code[:3]} {code[3:]}")
    assert found is not None
    assert found.totp_enrolled
    assert user_row(db).failed_logins == 0


def test_a_code_is_good_once(db: Database) -> None:
    app = _enrol(db)
    code = app.at(T0)
    assert authenticate(db, "a@example.jp", code=code) is not None
    assert authenticate(db, "a@example.jp", code=code, now=T0 + timedelta(seconds=10)) is None
    assert authenticate(
        db, "a@example.jp", code=app.at(T0 + timedelta(seconds=30)), now=T0 + timedelta(seconds=31)
    )


def test_codes_one_step_off_are_accepted_two_are_not() -> None:
    secret = totp.new_secret()
    app = pyotp.TOTP(secret)
    assert totp.accepted_step(secret, app.at(T0 - timedelta(seconds=30)), now=T0, last_step=None) is not None
    assert totp.accepted_step(secret, app.at(T0 + timedelta(seconds=30)), now=T0, last_step=None) is not None
    assert totp.accepted_step(secret, app.at(T0 - timedelta(seconds=60)), now=T0, last_step=None) is None
    assert totp.accepted_step(secret, "12345", now=T0, last_step=None) is None
    assert totp.accepted_step(secret, "１２３４５６", now=T0, last_step=None) is None  # full-width digits


def test_a_wrong_code_with_the_right_password_counts_and_locks(db: Database) -> None:
    app = _enrol(db)
    wrong = "000000" if app.at(T0) != "000000" else "111111"
    for _ in range(SETTINGS.lockout_failures):
        assert authenticate(db, "a@example.jp", code=wrong) is None
    assert user_row(db).locked_until is not None
    assert authenticate(db, "a@example.jp", code=app.at(T0)) is None


# Sessions


def _session(db: Database, user: StaffView, *, now: datetime = T0) -> str:
    with db.session() as session:
        return sessions.open_session(session, user.id, ip="192.0.2.1", now=now, settings=SETTINGS)


def _alive(db: Database, session_id: str, now: datetime) -> bool:
    with db.session() as session:
        return login.visit(session, session_id, now=now, settings=SETTINGS) is not None


def test_only_the_digest_of_the_session_id_is_stored(db: Database) -> None:
    session_id = _session(db, add(db))
    with db.session() as session:
        stored = session.scalars(select(StaffSession.id_hash)).all()
    assert stored == [sessions.digest(session_id)]
    assert session_id not in repr(snapshot(db))
    assert len(session_id) == 43


def test_a_session_ends_at_its_lifetime_even_when_used(db: Database) -> None:
    session_id = _session(db, add(db))
    moment = T0
    while moment < T0 + SETTINGS.session_lifetime - timedelta(minutes=30):
        moment += timedelta(minutes=30)
        assert _alive(db, session_id, moment)
        with db.session() as session:
            found = login.visit(session, session_id, now=moment, settings=SETTINGS)
            assert found is not None
            login.note_activity(session, found, now=moment)
    assert not _alive(db, session_id, T0 + SETTINGS.session_lifetime)


def test_an_idle_session_ends(db: Database) -> None:
    session_id = _session(db, add(db))
    assert _alive(db, session_id, T0 + timedelta(minutes=59))
    assert not _alive(db, session_id, T0 + timedelta(minutes=60))
    assert not _alive(db, "x" * 43, T0)
    assert not _alive(db, "not a session id", T0)


def test_looking_a_session_up_writes_nothing(db: Database) -> None:
    session_id = _session(db, add(db))
    before = snapshot(db)
    assert _alive(db, session_id, T0 + timedelta(minutes=5))
    assert snapshot(db) == before


def test_log_in_opens_a_new_session_and_ends_the_one_it_replaces(db: Database) -> None:
    add(db)
    with db.session() as session:
        first = login.log_in(session, "a@example.jp", PASSWORD, "", ip="192.0.2.1", now=T0, settings=SETTINGS)
    assert first is not None
    with db.session() as session:
        second = login.log_in(
            session,
            "a@example.jp",
            PASSWORD,
            "",
            ip="192.0.2.1",
            now=T0,
            settings=SETTINGS,
            replacing=first.session_id,
        )
    assert second is not None
    assert second.session_id != first.session_id
    assert not _alive(db, first.session_id, T0)
    assert _alive(db, second.session_id, T0)
    with db.session() as session:
        found = login.visit(session, second.session_id, now=T0, settings=SETTINGS)
        assert found is not None
        login.log_out(session, second.session_id, found, ip="192.0.2.1", now=T0)
    assert not _alive(db, second.session_id, T0)
    assert [action for _, action, _ in actions(db)] == ["user.add", "login", "login", "logout"]


def test_a_login_clears_the_users_ended_sessions(db: Database) -> None:
    user = add(db)
    _session(db, user)
    later = T0 + timedelta(days=1)
    with db.session() as session:
        assert login.log_in(session, user.email, PASSWORD, "", ip=None, now=later, settings=SETTINGS)
    with db.session() as session:
        assert len(session.scalars(select(StaffSession)).all()) == 1


# The audit log


def test_the_audit_log_reads_newest_first_in_pages(db: Database) -> None:
    with db.session() as session:
        for index in range(120):
            actor = audit.staff_actor("a@example.jp") if index % 2 else audit.cli_actor("root")
            audit.record(
                session, actor=actor, action="test", now=T0 + timedelta(minutes=index), detail=str(index)
            )
    with db.session() as session:
        first = audit.read_page(session)
        third = audit.read_page(session, page=3)
        past = audit.read_page(session, page=99)
        filtered = audit.read_page(session, actor="STAFF:A@")
        nothing = audit.read_page(session, actor="%")
    assert (first.page, first.pages, first.total, len(first.entries)) == (1, 3, 120, 50)
    assert [entry.detail for entry in first.entries[:3]] == ["119", "118", "117"]
    assert first.has_next
    assert not first.has_previous
    assert (third.page, len(third.entries), third.entries[-1].detail) == (3, 20, "0")
    assert past.page == 3
    assert (filtered.total, filtered.actor) == (60, "STAFF:A@")
    assert {entry.actor for entry in filtered.entries} == {"staff:a@example.jp"}
    assert nothing.total == 0  # a wildcard is a character like any other


def test_an_empty_audit_log_has_one_empty_page(db: Database) -> None:
    with db.session() as session:
        page = audit.read_page(session, page=0)
    assert (page.page, page.pages, page.total, page.entries) == (1, 1, 0, [])


# Roles and settings


def test_roles() -> None:
    assert all(allows(StaffRole.ADMIN, permission) for permission in Permission)
    for role in (StaffRole.STAFF, StaffRole.APPROVER):
        assert allows(role, Permission.DASHBOARD)
        assert allows(role, Permission.AUDIT_LOG)
    assert allows(StaffRole.STAFF, Permission.ORGANIZATION)  # every organization's pages
    assert not allows(StaffRole.APPROVER, Permission.ORGANIZATION)
    assert [p for p in Permission if allows(StaffRole.ORG_EDITOR, p)] == [Permission.ORGANIZATION]
    assert home_permission(StaffRole.ORG_EDITOR) is Permission.ORGANIZATION
    assert home_permission(StaffRole.APPROVER) is Permission.DASHBOARD


def test_settings_defaults_and_values() -> None:
    assert load_staff_settings({}, env_file=None) == StaffSettings(
        lockout_failures=5,
        lockout=timedelta(minutes=15),
        session_lifetime=timedelta(hours=8),
        session_idle=timedelta(minutes=60),
    )
    given = {
        "OUTREACH_LOGIN_LOCKOUT_FAILURES": "3",
        "OUTREACH_LOGIN_LOCKOUT_MINUTES": "30",
        "OUTREACH_SESSION_HOURS": "2",
        "OUTREACH_SESSION_IDLE_MINUTES": "10",
    }
    assert load_staff_settings(given, env_file=None) == replace(
        SETTINGS,
        lockout=timedelta(minutes=30),
        session_lifetime=timedelta(hours=2),
        session_idle=timedelta(minutes=10),
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OUTREACH_LOGIN_LOCKOUT_FAILURES", "0"),
        ("OUTREACH_LOGIN_LOCKOUT_FAILURES", "2.5"),
        ("OUTREACH_LOGIN_LOCKOUT_MINUTES", "99999"),
        ("OUTREACH_SESSION_HOURS", "0"),
        ("OUTREACH_SESSION_IDLE_MINUTES", "nan"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=variable):
        load_staff_settings({variable: value}, env_file=None)
