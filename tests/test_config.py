"""Settings: the environment wins over `.env`, which wins over the defaults; secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from outreach.config import Secret, SmtpRelay, load_settings
from outreach.errors import InvalidInput

SECRET_KEY = "sk-4f8a-very-secret-signing-key"
SMTP_PASSWORD = "relay-pw-93kd"
DB_PASSWORD = "db-pw-7qz1"


def test_explicit_mapping_is_read_and_defaults_fill_the_rest() -> None:
    settings = load_settings(
        {
            "OUTREACH_FROM": "news@example.jp",
            "OUTREACH_BASE_URL": "https://mailmag.example.jp/",
            "OUTREACH_VAR_DIR": "/srv/outreach",
        },
        env_file=None,
    )
    assert settings.sender_address == "news@example.jp"
    assert settings.base_url == "https://mailmag.example.jp"  # the trailing slash is dropped
    assert settings.var_dir == Path("/srv/outreach")
    assert settings.outbox_dir == Path("/srv/outreach/outbox")
    assert settings.database_url.reveal() == "sqlite:////srv/outreach/outreach.sqlite3"
    assert settings.list_id == "mailmag.example.jp"
    assert settings.unsubscribe_mailto == "unsubscribe@example.jp"
    assert settings.smtp is None
    assert settings.sender_name_ja == "中堅・中小企業海外安全対策ネットワーク事務局"
    assert settings.sender_name_en == "SME Overseas Safety Network Secretariat"
    assert settings.using_default_secret


def test_an_empty_value_counts_as_unset() -> None:
    settings = load_settings({"OUTREACH_FROM": "", "OUTREACH_SECRET_KEY": ""}, env_file=None)
    assert settings.sender_address == "mailmag@anzen-network.example.jp"
    assert settings.using_default_secret


def test_a_set_secret_key_is_not_the_default() -> None:
    settings = load_settings({"OUTREACH_SECRET_KEY": SECRET_KEY}, env_file=None)
    assert settings.secret_key.reveal() == SECRET_KEY
    assert not settings.using_default_secret


def test_env_file_none_ignores_a_dotenv_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("OUTREACH_FROM=from-dotenv@example.jp\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings({}, env_file=None).sender_address == "mailmag@anzen-network.example.jp"
    assert load_settings({}).sender_address == "from-dotenv@example.jp"  # the default env_file is ./.env


def test_environment_wins_over_dotenv_which_wins_over_defaults(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "OUTREACH_FROM=from-dotenv@example.jp\n"
        "OUTREACH_FROM_NAME=ドットエンブ事務局\n"
        "OUTREACH_SMTP_URL=smtp://relay.example.jp:2525\n",
        encoding="utf-8",
    )
    settings = load_settings({"OUTREACH_FROM": "from-env@example.jp"}, env_file=env_file)
    assert settings.sender_address == "from-env@example.jp"  # environment over .env
    assert settings.sender_name_ja == "ドットエンブ事務局"  # .env over the default
    assert settings.smtp == SmtpRelay(host="relay.example.jp", port=2525, security="none")
    assert settings.sender_name_en == "SME Overseas Safety Network Secretariat"  # default
    assert settings.list_id == "mailmag.example.jp"  # derived from the winning sender address


def test_a_missing_env_file_is_not_an_error(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "no-such.env")
    assert settings.sender_address == "mailmag@anzen-network.example.jp"


def test_an_empty_environment_value_falls_back_to_dotenv(tmp_path: Path) -> None:
    # docker compose's `OUTREACH_FROM: ${OUTREACH_FROM}` passes an empty string when the host has none.
    env_file = tmp_path / ".env"
    env_file.write_text("OUTREACH_FROM=from-dotenv@example.jp\n", encoding="utf-8")
    settings = load_settings({"OUTREACH_FROM": ""}, env_file=env_file)
    assert settings.sender_address == "from-dotenv@example.jp"


def test_smtp_url_plain() -> None:
    relay = SmtpRelay.from_url("smtp://relay.example.jp:2525")
    assert relay == SmtpRelay(host="relay.example.jp", port=2525, security="none")
    assert relay.username is None
    assert relay.password is None


def test_smtp_url_starttls_with_quoted_password() -> None:
    relay = SmtpRelay.from_url("smtp+starttls://user%40corp:p%40ss@relay.example.jp")
    assert relay.security == "starttls"
    assert relay.port == 587
    assert relay.host == "relay.example.jp"
    assert relay.username == "user@corp"
    assert relay.password is not None
    assert relay.password.reveal() == "p@ss"


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://relay.example.jp", "none", 25),
        ("smtp+starttls://relay.example.jp", "starttls", 587),
        ("smtps://relay.example.jp", "tls", 465),
        ("smtps://relay.example.jp:10465", "tls", 10465),
    ],
)
def test_smtp_url_default_ports(url: str, security: str, port: int) -> None:
    relay = SmtpRelay.from_url(url)
    assert (relay.security, relay.port) == (security, port)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://relay.example.jp", "OUTREACH_SMTP_URL must look like"),
        ("relay.example.jp:25", "OUTREACH_SMTP_URL must look like"),
        ("smtp://", "OUTREACH_SMTP_URL must look like"),
        ("smtp://:25", "OUTREACH_SMTP_URL must look like"),
        ("smtp://relay.example.jp:abc", "not a number"),
    ],
)
def test_bad_smtp_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SmtpRelay.from_url(url)


def test_a_bad_smtp_url_in_the_environment_is_refused() -> None:
    with pytest.raises(InvalidInput):
        load_settings({"OUTREACH_SMTP_URL": "ftp://relay.example.jp"}, env_file=None)


def test_secret_never_shows_itself() -> None:
    secret = Secret(SECRET_KEY)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret]), repr({"k": secret})):
        assert SECRET_KEY not in shown
        assert "*" in shown
    assert secret.reveal() == SECRET_KEY
    assert secret == Secret(SECRET_KEY)
    assert secret != Secret("other")
    assert secret != SECRET_KEY  # a Secret is not equal to its plain string
    assert hash(secret) == hash(Secret(SECRET_KEY))


def test_settings_and_relay_never_show_passwords_or_the_secret_key() -> None:
    settings = load_settings(
        {
            "OUTREACH_SECRET_KEY": SECRET_KEY,
            "OUTREACH_SMTP_URL": f"smtps://mailer:{SMTP_PASSWORD}@relay.example.jp",
            "OUTREACH_DATABASE_URL": f"postgresql://outreach:{DB_PASSWORD}@db.example.jp/outreach",
        },
        env_file=None,
    )
    assert settings.smtp is not None
    assert settings.smtp.password is not None
    assert settings.smtp.password.reveal() == SMTP_PASSWORD
    assert settings.secret_key.reveal() == SECRET_KEY
    shown = [repr(settings), str(settings), repr(settings.smtp), str(settings.smtp), f"{settings.smtp}"]
    for text in shown:
        for hidden in (SECRET_KEY, SMTP_PASSWORD, DB_PASSWORD):
            assert hidden not in text
    assert str(settings.smtp) == "tls mailer@relay.example.jp:465"
