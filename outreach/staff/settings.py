"""The console's own settings: lockout after failed logins, a session's lifetimes, and the approval rule."""

from __future__ import annotations

__all__ = ["ApprovalPolicy", "StaffSettings", "load_staff_settings"]

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field

from outreach.config import EnvironmentModel, read_environment, whole_number


class ApprovalPolicy(enum.StrEnum):
    """OUTREACH_APPROVAL: who must approve an issue (決裁) before it is sent or scheduled."""

    TWO_PERSON = "two-person"  # an approver other than its composer
    SELF = "self"  # a one-person secretariat: the composer may approve their own issue
    NONE = "none"  # no approval step (a development machine, the test suite); every such send is audited


@dataclass(frozen=True)
class StaffSettings:
    """Build it with `load_staff_settings`; every field has an OUTREACH_* variable (see the README)."""

    lockout_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_lifetime: timedelta = timedelta(hours=8)
    session_idle: timedelta = timedelta(minutes=60)
    approval: ApprovalPolicy = ApprovalPolicy.TWO_PERSON
    # The send time the console suggests on the next business morning: the scheduler's own (SEND_AT).
    morning: time = time(10)


class _Environment(EnvironmentModel):
    """OUTREACH_LOGIN_LOCKOUT_*, OUTREACH_SESSION_*, OUTREACH_APPROVAL and OUTREACH_SCHEDULER_SEND_AT."""

    login_lockout_failures: int = whole_number(5, 1, 100, of="failed logins")
    login_lockout_minutes: int = whole_number(15, 1, 1440, of="minutes")
    session_hours: int = whole_number(8, 1, 168, of="hours")
    session_idle_minutes: int = whole_number(60, 1, 1440, of="minutes")
    approval: Literal["two-person", "self", "none"] = Field(
        "two-person", description="two-person, self or none"
    )
    scheduler_send_at: time = Field(time(10), description="a time of day such as 10:00")


def load_staff_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> StaffSettings:
    """Read the console's settings (see `_Environment`); the environment wins over `.env`."""
    env = read_environment(_Environment, environ, env_file=env_file)
    return StaffSettings(
        lockout_failures=env.login_lockout_failures,
        lockout=timedelta(minutes=env.login_lockout_minutes),
        session_lifetime=timedelta(hours=env.session_hours),
        session_idle=timedelta(minutes=env.session_idle_minutes),
        approval=ApprovalPolicy(env.approval),
        morning=env.scheduler_send_at,
    )
