"""The safety alerts' settings: the OUTREACH_ALERTS* variables, read once and checked."""

from __future__ import annotations

__all__ = ["AlertMode", "AlertSettings", "load_alert_settings"]

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from outreach.alerts.rules import Rules, parse_rules
from outreach.config import EnvironmentModel, finite_number, read_environment, whole_number

DEFAULT_FEED = "https://www.ezairyu.mofa.go.jp/opendata/area/newarrivalA.xml"


class AlertMode(enum.StrEnum):
    """OUTREACH_ALERTS: what happens to an entry the rules send at once."""

    AUTO = "auto"  # an alert issue is composed and sent at once
    APPROVE = "approve"  # an alert issue is composed as a draft and the staff on duty are mailed a link
    OFF = "off"  # entries are recorded and listed, nothing is composed


@dataclass(frozen=True)
class AlertSettings:
    """The alerts' settings; build them with `load_alert_settings`."""

    mode: AlertMode = AlertMode.APPROVE
    feed: str = DEFAULT_FEED
    poll: timedelta = timedelta(minutes=5)
    rules: Rules = field(default_factory=lambda: parse_rules(""))  # the defaults and OUTREACH_ALERTS_RULES
    max_age: timedelta = timedelta(hours=24)  # an older entry is recorded only: a first poll sends no history
    timeout: float = 20.0  # seconds for the whole request
    max_bytes: int = 8 * 1024 * 1024  # a larger file is refused


class _Environment(EnvironmentModel):
    """OUTREACH_ALERTS and the OUTREACH_ALERTS_* variables, validated by outreach's one settings reader."""

    model_config = SettingsConfigDict(env_prefix="OUTREACH_ALERTS_")

    mode: AlertMode = Field(
        AlertMode.APPROVE, validation_alias="OUTREACH_ALERTS", description="auto, approve or off"
    )
    feed: str = Field(DEFAULT_FEED, description="an http(s) URL or a file's path")
    poll: int = whole_number(5, 1, 1440, of="minutes")
    rules: str = Field("", description="rules such as wide-area=now,embassy-general=record")
    max_age: int = whole_number(24, 1, 24 * 30, of="hours")
    timeout: float = finite_number(20, 0.1, 600, of="seconds")
    max_bytes: int = whole_number(8 * 1024 * 1024, 1024, 1024 * 1024 * 1024, of="bytes")


def load_alert_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> AlertSettings:
    """Read the OUTREACH_ALERTS* settings: the environment wins over `.env`, which wins over defaults."""
    env = read_environment(_Environment, environ, env_file=env_file)
    return AlertSettings(
        mode=env.mode,
        feed=env.feed,
        poll=timedelta(minutes=env.poll),
        rules=parse_rules(env.rules),
        max_age=timedelta(hours=env.max_age),
        timeout=env.timeout,
        max_bytes=env.max_bytes,
    )
