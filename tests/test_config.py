"""Settings: the environment wins over `.env`, which wins over the defaults; secrets never print."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from outreach.config import Secret, SmtpRelay, SmtpTimeouts, load_settings, parse_domain_rates
from outreach.errors import InvalidInput
from outreach.schedule_settings import load_scheduler_settings
from subscribers.settings import load_subscription_settings

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


# --- numbers: finite, in range, whole where they count things ---------------------------------------------


def _load_all(environ: Mapping[str, str], env_file: Path | None = None) -> None:
    """Every settings reader outreach has: the engine's, the scheduler's and the web's."""
    settings = load_settings(environ, env_file=env_file)
    load_scheduler_settings(environ, env_file=env_file)
    load_subscription_settings(settings, environ, env_file=env_file)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e12", "-1", "abc", "2.5"])
@pytest.mark.parametrize(
    "variable",
    [
        "OUTREACH_BATCH_SIZE",
        "OUTREACH_SMTP_CONNECTIONS",
        "OUTREACH_WORKER_LEASE_SECONDS",
        "OUTREACH_SCHEDULER_GRACE",
        "OUTREACH_PENDING_DAYS",
        "OUTREACH_INBOUND_MAX_BYTES",
    ],
)
def test_a_whole_number_setting_refuses_what_is_not_one_in_range(variable: str, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _load_all({variable: value})
    message = str(refused.value)
    assert message.startswith(f"{variable} is a whole number")
    assert f"got {value!r}" in message
    assert "\n" not in message


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e12", "-1", "abc"])
@pytest.mark.parametrize(
    "variable",
    [
        "OUTREACH_RETRY_FIRST_MINUTES",
        "OUTREACH_RETRY_MAX_MINUTES",
        "OUTREACH_RETRY_DEADLINE_HOURS",
        "OUTREACH_SMTP_TIMEOUT_DATA_END",
        "OUTREACH_SCHEDULER_POLL",
    ],
)
def test_a_number_setting_refuses_what_is_not_finite_and_in_range(variable: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{variable} is a number of [a-z]+ from [0-9.]+ to [0-9]+; got"):
        _load_all({variable: value})


def test_the_ends_of_a_range_and_surrounding_spaces_are_taken() -> None:
    delivery = load_settings(
        {
            "OUTREACH_BATCH_SIZE": "10000",
            "OUTREACH_SMTP_CONNECTIONS": "1",
            "OUTREACH_RETRY_FIRST_MINUTES": "0",
            "OUTREACH_RETRY_MAX_MINUTES": "0.5",
            "OUTREACH_WORKER_LEASE_SECONDS": " 10 ",
        },
        env_file=None,
    ).delivery
    assert (delivery.batch_size, delivery.connections) == (10000, 1)
    assert (delivery.retry_first, delivery.retry_max) == (timedelta(0), timedelta(seconds=30))
    assert delivery.lease == timedelta(seconds=10)


def test_every_refused_variable_is_named_in_one_line() -> None:
    with pytest.raises(InvalidInput) as refused:
        load_settings({"OUTREACH_BATCH_SIZE": "0", "OUTREACH_SMTP_CONNECTIONS": "101"}, env_file=None)
    message = str(refused.value)
    assert "OUTREACH_BATCH_SIZE is a whole number from 1 to 10000; got '0'" in message
    assert "OUTREACH_SMTP_CONNECTIONS is a whole number from 1 to 100; got '101'" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OUTREACH_UNKNOWN_POLICY": "maybe"}, "OUTREACH_UNKNOWN_POLICY is resend or hold; got 'maybe'"),
        ({"OUTREACH_FROM": "no-at-sign"}, "OUTREACH_FROM is a plain address"),
        ({"OUTREACH_BASE_URL": "ftp://x.jp"}, "OUTREACH_BASE_URL is an http(s) URL"),
        ({"OUTREACH_SCHEDULER_REGULAR": "maybe"}, "OUTREACH_SCHEDULER_REGULAR is on or off; got 'maybe'"),
        ({"OUTREACH_SCHEDULER_SEND_AT": "25:00"}, "OUTREACH_SCHEDULER_SEND_AT is a time of day"),
        ({"OUTREACH_RATELIMIT_PER_IP": "lots"}, "OUTREACH_RATELIMIT_PER_IP is a rate limit like '20/hour'"),
        ({"OUTREACH_DOMAIN_RATES": "docomo.ne.jp=nan"}, "OUTREACH_DOMAIN_RATES: 'docomo.ne.jp=nan' is not"),
        ({"OUTREACH_DOMAIN_RATES": "docomo.ne.jp=inf"}, "OUTREACH_DOMAIN_RATES: 'docomo.ne.jp=inf' is not"),
        ({"OUTREACH_DOMAIN_RATES": "=5"}, "OUTREACH_DOMAIN_RATES: '=5' names no domain"),
    ],
)
def test_other_settings_name_the_variable_and_what_it_may_be(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{re.escape(message)}"):
        _load_all(environ)


def test_domain_rates_are_read() -> None:
    assert parse_domain_rates("docomo.ne.jp=5, EZweb.ne.jp=0.5") == {"docomo.ne.jp": 5.0, "ezweb.ne.jp": 0.5}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("rate=nan", "OUTREACH_SMTP_URL rate is a number from 0.01 to 100000; got 'nan'"),
        ("rate=inf", "OUTREACH_SMTP_URL rate is a number"),
        ("weight=2.5", "OUTREACH_SMTP_URL weight is a whole number from 1 to 1000; got '2.5'"),
        ("per_hour=1e12", "OUTREACH_SMTP_URL per_hour is a whole number"),
        ("bogus=1", "OUTREACH_SMTP_URL has unknown parameters: bogus"),
    ],
)
def test_relay_limits_are_finite_and_a_bad_one_never_shows_the_password(query: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        load_settings(
            {"OUTREACH_SMTP_URL": f"smtps://mailer:{SMTP_PASSWORD}@relay.example.jp?{query}"}, env_file=None
        )
    assert str(refused.value).startswith(message)
    assert SMTP_PASSWORD not in str(refused.value)


def test_smtp_timeouts_have_rfc_5321_defaults_and_are_read() -> None:
    assert load_settings({}, env_file=None).delivery.timeouts == SmtpTimeouts(300, 300, 120, 180, 600)
    settings = load_settings(
        {
            "OUTREACH_SMTP_TIMEOUT_CONNECT": "30",
            "OUTREACH_SMTP_TIMEOUT_COMMAND": "60",
            "OUTREACH_SMTP_TIMEOUT_DATA_START": "0.1",
            "OUTREACH_SMTP_TIMEOUT_DATA_BLOCK": "90.5",
            "OUTREACH_SMTP_TIMEOUT_DATA_END": "3600",
        },
        env_file=None,
    )
    assert settings.delivery.timeouts == SmtpTimeouts(
        connect=30, command=60, data_start=0.1, data_block=90.5, data_end=3600
    )
    with pytest.raises(
        InvalidInput, match=r"^OUTREACH_SMTP_TIMEOUT_CONNECT is a number of seconds from 0\.1 to 3600"
    ):
        load_settings({"OUTREACH_SMTP_TIMEOUT_CONNECT": "0.05"}, env_file=None)


# --- the environment, `.env` and empty values: the same for every reader ----------------------------------


READERS = [
    pytest.param(
        "OUTREACH_BATCH_SIZE", lambda e, f: load_settings(e, env_file=f).delivery.batch_size, id="engine"
    ),
    pytest.param(
        "OUTREACH_SCHEDULER_GRACE",
        lambda e, f: load_scheduler_settings(e, env_file=f).grace // timedelta(minutes=1),
        id="scheduler",
    ),
    pytest.param(
        "OUTREACH_PENDING_DAYS",
        lambda e, f: (
            load_subscription_settings(load_settings({}, env_file=None), e, env_file=f).pending_lifetime.days
        ),
        id="web",
    ),
]
DEFAULTS = {"OUTREACH_BATCH_SIZE": 500, "OUTREACH_SCHEDULER_GRACE": 120, "OUTREACH_PENDING_DAYS": 7}
Reader = Callable[[Mapping[str, str], Path | None], int]


@pytest.mark.parametrize(("variable", "read"), READERS)
def test_the_environment_wins_over_dotenv(variable: str, read: Reader, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"{variable}=11\n", encoding="utf-8")
    assert read({variable: "22"}, env_file) == 22
    assert read({}, env_file) == 11


@pytest.mark.parametrize(("variable", "read"), READERS)
def test_an_empty_variable_falls_back_to_dotenv(variable: str, read: Reader, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"{variable}=11\n", encoding="utf-8")
    assert read({variable: ""}, env_file) == 11


@pytest.mark.parametrize(("variable", "read"), READERS)
@pytest.mark.parametrize("empty", ["", '""', "''"])
def test_an_empty_dotenv_value_falls_back_to_the_default(
    variable: str, read: Reader, empty: str, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"{variable}={empty}\n", encoding="utf-8")
    assert read({variable: ""}, env_file) == DEFAULTS[variable]
    assert read({}, env_file) == DEFAULTS[variable]


@pytest.mark.parametrize(("variable", "read"), READERS)
def test_a_bad_dotenv_value_is_refused_by_name(variable: str, read: Reader, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"{variable}=nan\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=f"^{variable} is a whole number"):
        read({}, env_file)


def test_the_process_environment_is_read_when_no_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_BATCH_SIZE", "42")
    monkeypatch.setenv("OUTREACH_SMTP_TIMEOUT_DATA_END", "")
    delivery = load_settings(env_file=None).delivery
    assert (delivery.batch_size, delivery.timeouts.data_end) == (42, 600)


# --- the command line ---------------------------------------------------------------------------------------


def test_the_cli_refuses_a_bad_number_with_one_line_and_exit_2(tmp_path: Path) -> None:
    environ = {name: value for name, value in os.environ.items() if not name.startswith("OUTREACH_")}
    environ["OUTREACH_BATCH_SIZE"] = "nan"
    done = subprocess.run(
        [sys.executable, "-m", "outreach", "db", "status"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=environ,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: OUTREACH_BATCH_SIZE is a whole number from 1 to 10000; got 'nan'"
    ]
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "var").exists()  # refused before any database was made
