"""Settings, read once from the environment with a `.env` fallback and defaults, and validated once."""

from __future__ import annotations

__all__ = [
    "DeliverySettings",
    "EnvironmentModel",
    "Secret",
    "Settings",
    "SmtpRelay",
    "SmtpTimeouts",
    "finite_number",
    "load_settings",
    "parse_domain_rates",
    "parse_relays",
    "read_environment",
    "whole_number",
]

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, DotEnvSettingsSource, EnvSettingsSource, SettingsConfigDict

from outreach.errors import InvalidInput
from outreach.secret import Secret

_BASE_URL = re.compile(r"https?://[A-Za-z0-9.\-:\[\]]+(/[\x21-\x7e]*)?")
_ADDRESS = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"^{_LABEL}(?:\.{_LABEL})+$"
_DEFAULT_SECRET = "dev-only-insecure-secret-key-set-OUTREACH_SECRET_KEY"  # noqa: S105 (a documented dev default)


def whole_number(default: int | None, low: int, high: int, *, of: str = "") -> Any:
    """A field for a whole number from `low` to `high`; `2.5`, `nan` and `1e12` are refused."""
    unit = f" of {of}" if of else ""
    return Field(default, ge=low, le=high, description=f"a whole number{unit} from {low} to {high}")


def finite_number(default: float | None, low: float, high: float, *, of: str = "") -> Any:
    """A field for a finite number from `low` to `high`; `nan`, `inf` and `-inf` are refused."""
    unit = f" of {of}" if of else ""
    return Field(
        default, ge=low, le=high, allow_inf_nan=False, description=f"a number{unit} from {low:g} to {high:g}"
    )


class EnvironmentModel(BaseSettings):
    """Base of the settings models: OUTREACH_* variables; an empty one counts as unset, in `.env` too."""

    # Other models' variables share the environment and `.env`, so unknown ones are ignored, not refused.
    model_config = SettingsConfigDict(
        env_prefix="OUTREACH_", env_ignore_empty=True, extra="ignore", frozen=True, str_strip_whitespace=True
    )


_Model = TypeVar("_Model", bound=EnvironmentModel)


class _GivenEnvironment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping, so callers and tests can pass their own."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = environ  # set first: the base class reads the variables in its __init__
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            name.lower(): value for name, value in self._given.items() if value or not self.env_ignore_empty
        }


def read_environment(
    model: type[_Model], environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> _Model:
    """Validate `model` from `environ` (the process environment by default), then `env_file`, then defaults.

    Raises InvalidInput: one line naming each refused variable and what it may be.
    """
    environment = _GivenEnvironment(model, os.environ if environ is None else environ)
    dotenv = DotEnvSettingsSource(model, env_file=env_file)
    try:
        return model.model_validate({**dotenv(), **environment()})
    except ValidationError as error:
        # `from None`: pydantic's own report repeats every input, secrets included.
        raise InvalidInput(_explain(error, _variables(model))) from None


def _variables(model: type[BaseModel]) -> dict[str, tuple[str, FieldInfo]]:
    """Each field by its name and its alias (pydantic reports either), with its variable's name."""
    prefix = str(model.model_config.get("env_prefix", ""))
    found: dict[str, tuple[str, FieldInfo]] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        variable = alias if isinstance(alias, str) else f"{prefix}{name}".upper()
        found[name] = found[variable] = (variable, info)
    return found


def _explain(error: ValidationError, variables: Mapping[str, tuple[str, FieldInfo]]) -> str:
    return "; ".join(_problem(detail, variables) for detail in error.errors())


def _problem(detail: ErrorDetails, variables: Mapping[str, tuple[str, FieldInfo]]) -> str:
    variable, info = variables[str(detail["loc"][0])]
    allowed = info.description or detail["msg"]
    if not info.repr:  # a secret: never show what was given
        return f"{variable} is {allowed}"
    return f"{variable} is {allowed}; got {detail['input']!r}"


class _RelayLimits(BaseModel):
    """The query parameters of one relay URL, validated like the variables."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    weight: int = whole_number(1, 1, 1000)
    rate: float | None = finite_number(None, 0.01, 100_000)
    per_hour: int | None = whole_number(None, 1, 100_000_000)

    @classmethod
    def from_query(cls, query: str) -> _RelayLimits:
        values = {name: given[-1] for name, given in parse_qs(query).items()}
        unknown = set(values) - set(cls.model_fields)
        if unknown:
            raise InvalidInput(f"OUTREACH_SMTP_URL has unknown parameters: {', '.join(sorted(unknown))}")
        variables = {name: (f"OUTREACH_SMTP_URL {name}", info) for name, info in cls.model_fields.items()}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise InvalidInput(_explain(error, variables)) from None


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
        defaults = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
        try:  # a malformed IPv6 host raises; the URL may hold a password, so it is never echoed
            parts = urlsplit(url.strip())
            valid = bool(parts.hostname) and parts.scheme in defaults
        except ValueError:
            valid = False
        if not valid:
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
        limits = _RelayLimits.from_query(parts.query)
        host = parts.hostname or ""  # checked above: never empty here
        return cls(host, port, security, username, password, limits.weight, limits.rate, limits.per_hour)

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{self.security} {user}{self.host}:{self.port}"


def parse_relays(text: str) -> tuple[SmtpRelay, ...]:
    """One or more relay URLs separated by commas or white space; the first is the main one."""
    return tuple(SmtpRelay.from_url(url) for url in text.replace(",", " ").split())


_DOMAIN_RATE = TypeAdapter(Annotated[float, Field(ge=0.01, le=10_000, allow_inf_nan=False)])


def parse_domain_rates(text: str) -> dict[str, float]:
    """`docomo.ne.jp=5,ezweb.ne.jp=5`: messages per second (0.01 to 10000) to each recipient domain."""
    rates: dict[str, float] = {}
    for item in text.replace(",", " ").split():
        domain, _, rate = item.lower().partition("=")
        if not domain:
            raise InvalidInput(f"OUTREACH_DOMAIN_RATES: {item!r} names no domain")
        try:
            rates[domain] = _DOMAIN_RATE.validate_python(rate)
        except ValidationError:
            raise InvalidInput(
                f"OUTREACH_DOMAIN_RATES: {item!r} is not domain=messages-per-second (0.01 to 10000)"
            ) from None
    return rates


@dataclass(frozen=True)
class SmtpTimeouts:
    """Seconds to wait for each SMTP reply, as RFC 5321 4.5.3.2 suggests (the end of data: 10 minutes)."""

    connect: float = 300.0  # the connection, TLS and the 220 greeting, EHLO and AUTH
    command: float = 300.0  # MAIL and RCPT
    data_start: float = 120.0  # the 354 after DATA
    data_block: float = 180.0  # each write of the message
    data_end: float = 600.0  # the reply after the final dot


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
    bounce_window: timedelta = timedelta(days=30)  # soft bounces after delivery count within it
    lease: timedelta = timedelta(minutes=10)
    dkim_selector: str | None = None
    dkim_key_file: Path | None = None
    timeouts: SmtpTimeouts = field(default_factory=SmtpTimeouts)


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
    development: bool = False  # OUTREACH_ENV=development: outreach.guard lets local settings mail a relay
    bounce_domain: str = ""  # OUTREACH_BOUNCE_DOMAIN: the domain of the VERP envelope senders

    @property
    def verp_domain(self) -> str:
        """Where bounces go back to: the bounce domain, else the sender's domain."""
        return self.bounce_domain or self.sender_address.rpartition("@")[2]

    @property
    def relays(self) -> tuple[SmtpRelay, ...]:
        """Every configured relay, the main one first; empty when mail goes to the local outbox."""
        return (self.smtp, *self.fallback_relays) if self.smtp else ()

    @property
    def using_default_secret(self) -> bool:
        return self.secret_key.reveal() == _DEFAULT_SECRET


class _Environment(EnvironmentModel):
    """The OUTREACH_* variables of `Settings`; a None means "derived from another setting"."""

    database_url: str | None = Field(None, repr=False)
    smtp_url: str = Field("", repr=False)  # parse_relays checks it; its messages never show a password
    outbox_dir: Path | None = None
    var_dir: Path = Path("var")
    sender: str = Field(
        "mailmag@anzen-network.example.jp",
        validation_alias="OUTREACH_FROM",  # `from` is a Python keyword
        pattern=_ADDRESS,
        description="a plain address like mailmag@example.jp",
    )
    from_name: str = "中堅・中小企業海外安全対策ネットワーク事務局"
    from_name_en: str = "SME Overseas Safety Network Secretariat"
    base_url: str = Field("http://127.0.0.1:8000", description="an http(s) URL without spaces")
    secret_key: str = Field(_DEFAULT_SECRET, repr=False)
    env: Literal["production", "development"] = Field("production", description="production or development")
    postal_address: str = "〒100-8919 東京都千代田区霞が関2-2-1 外務省領事局海外邦人安全課"
    postal_address_en: str = (
        "Overseas Japanese Safety Division, Consular Affairs Bureau, Ministry of Foreign Affairs, "
        "2-2-1 Kasumigaseki, Chiyoda-ku, Tokyo 100-8919, Japan"
    )
    list_id: str | None = None
    unsubscribe_mailto: str | None = None
    bounce_domain: str | None = Field(
        None, pattern=_DOMAIN, max_length=253, description="a domain like example.jp"
    )

    smtp_connections: int = whole_number(4, 1, 100)
    batch_size: int = whole_number(500, 1, 10_000)
    reconnect_after: int = whole_number(1000, 1, 1_000_000)
    domain_rates: str = ""
    retry_first_minutes: float = finite_number(5, 0, 1440, of="minutes")
    retry_max_minutes: float = finite_number(360, 0, 10_080, of="minutes")
    retry_deadline_hours: float = finite_number(72, 0, 720, of="hours")
    unknown_policy: Literal["resend", "hold"] = Field("resend", description="resend or hold")
    pause_after_errors: int = whole_number(50, 1, 100_000)
    bounce_limit: int = whole_number(3, 1, 100)
    bounce_window_days: int = whole_number(30, 1, 365, of="days")
    worker_lease_seconds: int = whole_number(600, 10, 86_400, of="seconds")
    dkim_selector: str | None = None
    dkim_key_file: Path | None = None
    smtp_timeout_connect: float = finite_number(300, 0.1, 3600, of="seconds")
    smtp_timeout_command: float = finite_number(300, 0.1, 3600, of="seconds")
    smtp_timeout_data_start: float = finite_number(120, 0.1, 3600, of="seconds")
    smtp_timeout_data_block: float = finite_number(180, 0.1, 3600, of="seconds")
    smtp_timeout_data_end: float = finite_number(600, 0.1, 3600, of="seconds")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not _BASE_URL.fullmatch(value):
            raise ValueError("not an http(s) URL")
        return value


def _delivery_settings(env: _Environment, domain_rates: dict[str, float]) -> DeliverySettings:
    return DeliverySettings(
        connections=env.smtp_connections,
        batch_size=env.batch_size,
        reconnect_after=env.reconnect_after,
        domain_rates=domain_rates,
        retry_first=timedelta(minutes=env.retry_first_minutes),
        retry_max=timedelta(minutes=env.retry_max_minutes),
        retry_deadline=timedelta(hours=env.retry_deadline_hours),
        unknown_policy=env.unknown_policy,
        pause_after_errors=env.pause_after_errors,
        bounce_limit=env.bounce_limit,
        bounce_window=timedelta(days=env.bounce_window_days),
        lease=timedelta(seconds=env.worker_lease_seconds),
        dkim_selector=env.dkim_selector,
        dkim_key_file=env.dkim_key_file,
        timeouts=SmtpTimeouts(
            connect=env.smtp_timeout_connect,
            command=env.smtp_timeout_command,
            data_start=env.smtp_timeout_data_start,
            data_block=env.smtp_timeout_data_block,
            data_end=env.smtp_timeout_data_end,
        ),
    )


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings: the process environment wins over `.env`, which wins over the defaults.

    An empty variable counts as unset (docker compose passes `${VAR}` as empty when the host has none).
    """
    env = read_environment(_Environment, environ, env_file=env_file)
    domain = env.sender.rpartition("@")[2]
    relays = parse_relays(env.smtp_url)  # raises InvalidInput naming its variable, as parse_domain_rates does
    return Settings(
        database_url=Secret(env.database_url or f"sqlite:///{env.var_dir / 'outreach.sqlite3'}"),
        smtp=relays[0] if relays else None,
        fallback_relays=relays[1:],
        delivery=_delivery_settings(env, parse_domain_rates(env.domain_rates)),
        outbox_dir=env.outbox_dir or env.var_dir / "outbox",
        sender_address=env.sender,
        sender_name_ja=env.from_name,
        sender_name_en=env.from_name_en,
        base_url=env.base_url,
        secret_key=Secret(env.secret_key),
        postal_address_ja=env.postal_address,
        postal_address_en=env.postal_address_en,
        list_id=env.list_id or f"mailmag.{domain}",
        unsubscribe_mailto=env.unsubscribe_mailto or f"unsubscribe@{domain}",
        var_dir=env.var_dir,
        development=env.env == "development",
        bounce_domain=(env.bounce_domain or domain).lower(),
    )
