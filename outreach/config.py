"""Settings, read once from the environment with a `.env` fallback and embedded defaults."""

from __future__ import annotations

__all__ = [
    "DeliverySettings",
    "Secret",
    "Settings",
    "SmtpRelay",
    "load_settings",
    "parse_domain_rates",
    "parse_relays",
]

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dotenv import dotenv_values

from outreach.errors import InvalidInput

_BASE_URL = re.compile(r"https?://[A-Za-z0-9.\-:\[\]]+(/[\x21-\x7e]*)?")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_DEFAULT_SECRET = "dev-only-insecure-secret-key-set-OUTREACH_SECRET_KEY"  # noqa: S105 (a documented dev default)


class Secret:
    """A string that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class SmtpRelay:
    """Where outbound mail goes, parsed from one URL of OUTREACH_SMTP_URL.

    Query parameters set the relay's share and limits: `weight` (connections are spread by weight),
    `rate` (messages per second) and `per_hour` (a sliding one-hour cap), e.g.
    `smtp+starttls://user:pass@relay.example.jp:587?weight=3&rate=50&per_hour=50000`.
    """

    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str | None = None
    password: Secret | None = None
    weight: int = 1
    rate: float | None = None
    per_hour: int | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        parts = urlsplit(url.strip())
        defaults = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
        if parts.scheme not in defaults or not parts.hostname:
            raise InvalidInput(
                "OUTREACH_SMTP_URL must look like smtp://host:port, smtp+starttls://user:pass@host:587 "
                "or smtps://user:pass@host:465"
            )
        security, default_port = defaults[parts.scheme]
        try:
            port = parts.port or default_port
        except ValueError as exc:
            raise InvalidInput("OUTREACH_SMTP_URL has a port that is not a number") from exc
        password = Secret(unquote(parts.password)) if parts.password else None
        username = unquote(parts.username) if parts.username else None
        limits = _relay_limits(parse_qs(parts.query))
        return cls(parts.hostname, port, security, username, password, **limits)  # type: ignore[arg-type]

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{self.security} {user}{self.host}:{self.port}"


def _relay_limits(query: dict[str, list[str]]) -> dict[str, float | int | None]:
    unknown = set(query) - {"weight", "rate", "per_hour"}
    if unknown:
        raise InvalidInput(f"OUTREACH_SMTP_URL has unknown parameters: {', '.join(sorted(unknown))}")
    try:
        weight = int(query.get("weight", ["1"])[-1])
        rate = float(query["rate"][-1]) if "rate" in query else None
        per_hour = int(query["per_hour"][-1]) if "per_hour" in query else None
    except ValueError as exc:
        raise InvalidInput("OUTREACH_SMTP_URL: weight and per_hour are whole numbers, rate a number") from exc
    if weight < 1 or (rate is not None and rate <= 0) or (per_hour is not None and per_hour < 1):
        raise InvalidInput("OUTREACH_SMTP_URL: weight, rate and per_hour must be positive")
    return {"weight": weight, "rate": rate, "per_hour": per_hour}


def parse_relays(text: str) -> tuple[SmtpRelay, ...]:
    """One or more relay URLs separated by commas or white space; the first is the main one."""
    return tuple(SmtpRelay.from_url(url) for url in text.replace(",", " ").split())


def parse_domain_rates(text: str) -> dict[str, float]:
    """`docomo.ne.jp=5,ezweb.ne.jp=5`: messages per second to each recipient domain."""
    rates: dict[str, float] = {}
    for item in text.replace(",", " ").split():
        domain, _, rate = item.partition("=")
        try:
            rates[domain.strip().lower()] = float(rate)
        except ValueError:
            raise InvalidInput(f"OUTREACH_DOMAIN_RATES: {item!r} is not domain=messages-per-second") from None
        if rates[domain.strip().lower()] <= 0:
            raise InvalidInput(f"OUTREACH_DOMAIN_RATES: {item!r} must be positive")
    return rates


@dataclass(frozen=True)
class DeliverySettings:
    """How the delivery engine behaves; every field has an OUTREACH_* variable (see the README)."""

    connections: int = 4
    batch_size: int = 500
    reconnect_after: int = 1000
    domain_rates: dict[str, float] = field(default_factory=dict)
    retry_first: timedelta = timedelta(minutes=5)
    retry_max: timedelta = timedelta(hours=6)
    retry_deadline: timedelta = timedelta(hours=72)
    unknown_policy: str = "resend"  # "resend" or "hold"
    pause_after_errors: int = 50
    bounce_limit: int = 3
    lease: timedelta = timedelta(minutes=10)
    dkim_selector: str | None = None
    dkim_key_file: Path | None = None


@dataclass(frozen=True)
class Settings:
    """Everything outreach reads from its environment. Build it with `load_settings`."""

    database_url: Secret
    smtp: SmtpRelay | None
    outbox_dir: Path
    sender_address: str
    sender_name_ja: str
    sender_name_en: str
    base_url: str
    secret_key: Secret
    postal_address_ja: str
    postal_address_en: str
    list_id: str
    unsubscribe_mailto: str
    var_dir: Path = field(default=Path("var"))
    fallback_relays: tuple[SmtpRelay, ...] = ()
    delivery: DeliverySettings = field(default_factory=DeliverySettings)

    @property
    def relays(self) -> tuple[SmtpRelay, ...]:
        """Every configured relay, the main one first; empty when mail goes to the local outbox."""
        return (self.smtp, *self.fallback_relays) if self.smtp else ()

    @property
    def using_default_secret(self) -> bool:
        return self.secret_key.reveal() == _DEFAULT_SECRET


def _read(environ: Mapping[str, str | None], name: str, default: str) -> str:
    value = environ.get(name)
    return value if value else default


def _number(environ: Mapping[str, str | None], name: str, default: float, *, minimum: float = 1) -> float:
    text = _read(environ, name, str(default))
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number; got {text!r}") from None
    if value < minimum:
        raise InvalidInput(f"{name} must be at least {minimum:g}; got {text!r}")
    return value


def _delivery_settings(environ: Mapping[str, str | None]) -> DeliverySettings:
    policy = _read(environ, "OUTREACH_UNKNOWN_POLICY", "resend")
    if policy not in ("resend", "hold"):
        raise InvalidInput(f"OUTREACH_UNKNOWN_POLICY must be resend or hold; got {policy!r}")
    key_file = _read(environ, "OUTREACH_DKIM_KEY_FILE", "")
    return DeliverySettings(
        connections=int(_number(environ, "OUTREACH_SMTP_CONNECTIONS", 4)),
        batch_size=int(_number(environ, "OUTREACH_BATCH_SIZE", 500)),
        reconnect_after=int(_number(environ, "OUTREACH_RECONNECT_AFTER", 1000)),
        domain_rates=parse_domain_rates(_read(environ, "OUTREACH_DOMAIN_RATES", "")),
        retry_first=timedelta(minutes=_number(environ, "OUTREACH_RETRY_FIRST_MINUTES", 5, minimum=0)),
        retry_max=timedelta(minutes=_number(environ, "OUTREACH_RETRY_MAX_MINUTES", 360, minimum=0)),
        retry_deadline=timedelta(hours=_number(environ, "OUTREACH_RETRY_DEADLINE_HOURS", 72, minimum=0)),
        unknown_policy=policy,
        pause_after_errors=int(_number(environ, "OUTREACH_PAUSE_AFTER_ERRORS", 50)),
        bounce_limit=int(_number(environ, "OUTREACH_BOUNCE_LIMIT", 3)),
        lease=timedelta(seconds=_number(environ, "OUTREACH_WORKER_LEASE_SECONDS", 600, minimum=10)),
        dkim_selector=_read(environ, "OUTREACH_DKIM_SELECTOR", "") or None,
        dkim_key_file=Path(key_file) if key_file else None,
    )


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings: the process environment wins over `.env`, which wins over the defaults."""
    merged: dict[str, str | None] = {}
    if env_file is not None and env_file.is_file():
        merged.update(dotenv_values(env_file))
    # An empty variable (docker compose's unset ${VAR}) does not hide the .env value.
    merged.update(
        {name: value for name, value in (os.environ if environ is None else environ).items() if value}
    )
    var_dir = Path(_read(merged, "OUTREACH_VAR_DIR", "var"))
    sender = _read(merged, "OUTREACH_FROM", "mailmag@anzen-network.example.jp")
    domain = sender.rpartition("@")[2]
    relays = parse_relays(_read(merged, "OUTREACH_SMTP_URL", ""))
    base_url = _read(merged, "OUTREACH_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    if not _BASE_URL.fullmatch(base_url):
        raise InvalidInput(f"OUTREACH_BASE_URL must be an http(s) URL without spaces; got {base_url!r}")
    if not _ADDRESS.fullmatch(sender):
        raise InvalidInput(f"OUTREACH_FROM must be a plain address like mailmag@example.jp; got {sender!r}")
    return Settings(
        database_url=Secret(
            _read(merged, "OUTREACH_DATABASE_URL", f"sqlite:///{var_dir / 'outreach.sqlite3'}")
        ),
        smtp=relays[0] if relays else None,
        fallback_relays=relays[1:],
        delivery=_delivery_settings(merged),
        outbox_dir=Path(_read(merged, "OUTREACH_OUTBOX_DIR", str(var_dir / "outbox"))),
        sender_address=sender,
        sender_name_ja=_read(merged, "OUTREACH_FROM_NAME", "中堅・中小企業海外安全対策ネットワーク事務局"),
        sender_name_en=_read(merged, "OUTREACH_FROM_NAME_EN", "SME Overseas Safety Network Secretariat"),
        base_url=base_url,
        secret_key=Secret(_read(merged, "OUTREACH_SECRET_KEY", _DEFAULT_SECRET)),
        postal_address_ja=_read(
            merged,
            "OUTREACH_POSTAL_ADDRESS",
            "〒100-8919 東京都千代田区霞が関2-2-1 外務省領事局海外邦人安全課",
        ),
        postal_address_en=_read(
            merged,
            "OUTREACH_POSTAL_ADDRESS_EN",
            "Overseas Japanese Safety Division, Consular Affairs Bureau, Ministry of Foreign Affairs, "
            "2-2-1 Kasumigaseki, Chiyoda-ku, Tokyo 100-8919, Japan",
        ),
        list_id=_read(merged, "OUTREACH_LIST_ID", f"mailmag.{domain}"),
        unsubscribe_mailto=_read(merged, "OUTREACH_UNSUBSCRIBE_MAILTO", f"unsubscribe@{domain}"),
        var_dir=var_dir,
    )
