"""The scheduler's settings: the OUTREACH_SCHEDULER_* variables, read once and checked."""

from __future__ import annotations

__all__ = ["SchedulerSettings", "load_scheduler_settings"]

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from outreach.config import EnvironmentModel, finite_number, read_environment, whole_number
from outreach.jobs import Edition, regular_editions


@dataclass(frozen=True)
class SchedulerSettings:
    """The scheduler's settings (OUTREACH_SCHEDULER_*); build them with `load_scheduler_settings`."""

    grace: timedelta = timedelta(minutes=120)
    poll: float = 10.0
    send_at: time = time(10)
    regular: bool = True

    def editions(self) -> tuple[Edition, ...]:
        return regular_editions(self.send_at) if self.regular else ()


class _Environment(EnvironmentModel):
    """The OUTREACH_SCHEDULER_* variables, validated by outreach's one settings reader."""

    model_config = SettingsConfigDict(env_prefix="OUTREACH_SCHEDULER_")

    grace: int = whole_number(120, 0, 10_080, of="minutes")
    poll: float = finite_number(10, 0.05, 3600, of="seconds")
    send_at: time = Field(time(10), description="a time of day such as 10:00")
    regular: bool = Field(True, description="on or off")


def load_scheduler_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> SchedulerSettings:
    """Read the OUTREACH_SCHEDULER_* settings: the environment wins over `.env`, which wins over defaults."""
    env = read_environment(_Environment, environ, env_file=env_file)
    return SchedulerSettings(
        grace=timedelta(minutes=env.grace), poll=env.poll, send_at=env.send_at, regular=env.regular
    )
