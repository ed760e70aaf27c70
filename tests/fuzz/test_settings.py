"""Fuzz the settings readers: any OUTREACH_* values give settings or one InvalidInput, and no secret shows.

The environment may hold anything a shell can put there: empty strings, huge numbers, `nan`, control
characters, and undecodable bytes (which Python turns into lone surrogates).
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from outreach.config import load_settings
from outreach.errors import InvalidInput
from outreach.schedule_settings import load_scheduler_settings
from subscribers.settings import load_subscription_settings
from tests.fuzz.inputs import huge_numbers, nasty_text

# A marker inside every secret's value: no message may show it.
MARKER = "Zq7-secret-marker"
SECRETS = ["OUTREACH_DATABASE_URL", "OUTREACH_SMTP_URL", "OUTREACH_SECRET_KEY", "OUTREACH_RATELIMIT_STORAGE"]
VARIABLES = [
    "OUTREACH_VAR_DIR",
    "OUTREACH_OUTBOX_DIR",
    "OUTREACH_FROM",
    "OUTREACH_FROM_NAME",
    "OUTREACH_FROM_NAME_EN",
    "OUTREACH_BASE_URL",
    "OUTREACH_ENV",
    "OUTREACH_POSTAL_ADDRESS",
    "OUTREACH_POSTAL_ADDRESS_EN",
    "OUTREACH_LIST_ID",
    "OUTREACH_UNSUBSCRIBE_MAILTO",
    "OUTREACH_SMTP_CONNECTIONS",
    "OUTREACH_BATCH_SIZE",
    "OUTREACH_RECONNECT_AFTER",
    "OUTREACH_DOMAIN_RATES",
    "OUTREACH_RETRY_FIRST_MINUTES",
    "OUTREACH_RETRY_MAX_MINUTES",
    "OUTREACH_RETRY_DEADLINE_HOURS",
    "OUTREACH_UNKNOWN_POLICY",
    "OUTREACH_PAUSE_AFTER_ERRORS",
    "OUTREACH_BOUNCE_LIMIT",
    "OUTREACH_WORKER_LEASE_SECONDS",
    "OUTREACH_DKIM_SELECTOR",
    "OUTREACH_DKIM_KEY_FILE",
    "OUTREACH_SMTP_TIMEOUT_CONNECT",
    "OUTREACH_SMTP_TIMEOUT_COMMAND",
    "OUTREACH_SMTP_TIMEOUT_DATA_START",
    "OUTREACH_SMTP_TIMEOUT_DATA_BLOCK",
    "OUTREACH_SMTP_TIMEOUT_DATA_END",
    "OUTREACH_PENDING_DAYS",
    "OUTREACH_RATELIMIT_PER_IP",
    "OUTREACH_RATELIMIT_PER_ADDRESS",
    "OUTREACH_INBOUND_DOMAIN",
    "OUTREACH_INBOUND_MAX_BYTES",
    "OUTREACH_INBOUND_CONFIRMATIONS_PER_PEER_HOUR",
    "OUTREACH_INBOUND_CONFIRMATIONS_PER_HOUR",
    "OUTREACH_SCHEDULER_GRACE",
    "OUTREACH_SCHEDULER_POLL",
    "OUTREACH_SCHEDULER_SEND_AT",
    "OUTREACH_SCHEDULER_REGULAR",
]

# What os.environ holds for bytes that are not UTF-8: lone surrogates (PEP 383).
undecodable = st.binary(min_size=1, max_size=20).map(lambda raw: raw.decode("utf-8", "surrogateescape"))
numbers = st.one_of(
    huge_numbers(),
    st.floats().map(repr),
    st.sampled_from(["nan", "-inf", "1e309", "0x10", "1_000", "٣", "²", " 5 ", "5.", ".5", "true", "on"]),
)
values = st.one_of(nasty_text(max_size=120), numbers, undecodable)
urls = st.builds(
    "{}://{}{}{}".format,
    st.sampled_from(
        ["smtp", "smtps", "smtp+starttls", "postgresql", "sqlite", "redis", "memory", "http", ""]
    ),
    st.one_of(st.just(""), st.just("user:password@"), nasty_text(max_size=20).map(lambda text: f"{text}@")),
    st.one_of(st.sampled_from(["relay.example.jp", "[", "[::1]", "h:99999999", "h:-1", "h:x", "/"]), values),
    st.one_of(st.just(""), values.map(lambda text: f"?{text}"), st.just("?weight=0&rate=nan&per_hour=1e99")),
)


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str]:
    """Some variables of ours, each with any value; some strangers; every secret with the marker in it."""
    environ = {name: draw(st.one_of(values, urls)) for name in draw(st.lists(st.sampled_from(VARIABLES)))}
    for name in draw(st.lists(st.sampled_from(SECRETS), unique=True)):
        secret = draw(st.one_of(urls, values))
        at = draw(st.integers(min_value=0, max_value=len(secret)))
        environ[name] = f"{secret[:at]}{MARKER}{secret[at:]}"
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        environ[f"OUTREACH_{draw(nasty_text(max_size=15))}"] = draw(values)
    return environ


def check_refusal(read: Callable[[], object]) -> None:
    """The reader returns its settings, or raises InvalidInput: one line that shows no secret."""
    try:
        read()
    except InvalidInput as error:
        event("refused")
        message = str(error)
        assert message.strip()
        assert MARKER not in message, f"a secret in the message: {message!r}"
        assert "\n" not in message, f"more than one line: {message!r}"
    else:
        event("read")


@settings(deadline=None)
@given(environ=environments())
@example(environ={"OUTREACH_SMTP_URL": "smtp://["})  # once urlsplit's ValueError: Invalid IPv6 URL
@example(environ={"OUTREACH_SMTP_URL": f"smtp://user:{MARKER}@[x]:25"})  # once a ValueError naming the host
def test_load_settings(environ: dict[str, str]) -> None:
    check_refusal(lambda: load_settings(environ, env_file=None))


@settings(deadline=None)
@given(environ=environments())
def test_load_subscription_settings(environ: dict[str, str]) -> None:
    defaults = load_settings({}, env_file=None)
    check_refusal(lambda: load_subscription_settings(defaults, environ, env_file=None))


@settings(deadline=None)
@given(environ=environments())
def test_load_scheduler_settings(environ: dict[str, str]) -> None:
    check_refusal(lambda: load_scheduler_settings(environ, env_file=None))
