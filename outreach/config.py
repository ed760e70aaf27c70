"""Settings, read once from the environment with a `.env` fallback and embedded defaults."""

from __future__ import annotations

__all__ = ["Secret", "Settings", "SmtpRelay", "load_settings"]

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values

from outreach.errors import InvalidInput

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
    """Where outbound mail goes, parsed from OUTREACH_SMTP_URL."""

    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str | None = None
    password: Secret | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        parts = urlsplit(url)
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
        return cls(host=parts.hostname, port=port, security=security, username=username, password=password)

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{self.security} {user}{self.host}:{self.port}"


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

    @property
    def using_default_secret(self) -> bool:
        return self.secret_key.reveal() == _DEFAULT_SECRET


def _read(environ: Mapping[str, str | None], name: str, default: str) -> str:
    value = environ.get(name)
    return value if value else default


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings: the process environment wins over `.env`, which wins over the defaults."""
    merged: dict[str, str | None] = {}
    if env_file is not None and env_file.is_file():
        merged.update(dotenv_values(env_file))
    merged.update(os.environ if environ is None else environ)
    var_dir = Path(_read(merged, "OUTREACH_VAR_DIR", "var"))
    sender = _read(merged, "OUTREACH_FROM", "mailmag@anzen-network.example.jp")
    domain = sender.rpartition("@")[2]
    smtp_url = _read(merged, "OUTREACH_SMTP_URL", "")
    return Settings(
        database_url=Secret(
            _read(merged, "OUTREACH_DATABASE_URL", f"sqlite:///{var_dir / 'outreach.sqlite3'}")
        ),
        smtp=SmtpRelay.from_url(smtp_url) if smtp_url else None,
        outbox_dir=Path(_read(merged, "OUTREACH_OUTBOX_DIR", str(var_dir / "outbox"))),
        sender_address=sender,
        sender_name_ja=_read(merged, "OUTREACH_FROM_NAME", "中堅・中小企業海外安全対策ネットワーク事務局"),
        sender_name_en=_read(merged, "OUTREACH_FROM_NAME_EN", "SME Overseas Safety Network Secretariat"),
        base_url=_read(merged, "OUTREACH_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
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
