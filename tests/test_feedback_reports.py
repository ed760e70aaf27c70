"""Bounce and complaint reports read from realistic fixtures, the class of each status code, and garbage."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime

import pytest
from flufl.bounce import all_failures
from hypothesis import given
from hypothesis import strategies as st

from outreach.feedback import Failure, Report, ReportKind, classify, read_report
from outreach.models import BounceClass
from outreach.policy import Bounce, RetryPolicy
from outreach.smtp import SmtpReply
from tests.feedback_fixtures import FIXTURE_DIR, FIXTURES, Expected, expected, render

VERP = "bounces+Ab3dE-9xY_Q@anzen-network.example.jp"
RECIPIENT = "Taro.Yamada@Example-Shoji.co.jp"  # mixed case: a report's recipient comes back lower-cased
MESSAGE_ID = "<k7q2m4x9w3c8v5b6n1z0hy4tud@anzen-network.example.jp>"
SENDER = "mailmag@anzen-network.example.jp"
CODE = re.compile(r"[245]\.(?:0|[1-9][0-9]{0,2})\.(?:0|[1-9][0-9]{0,2})")


def rendered(name: str) -> bytes:
    return render(name, verp=VERP, recipient=RECIPIENT, message_id=MESSAGE_ID, sender=SENDER)


def report_of_raw(raw: bytes) -> Report:
    report = read_report(raw)
    assert report is not None
    return report


def report_of(name: str) -> Report:
    return report_of_raw(rendered(name))


def only_failure(name: str) -> Failure:
    (failure,) = report_of(name).failures
    return failure


def assert_well_formed(report: Report | None) -> None:
    """What holds of every report, whatever the input."""
    if report is None:
        return
    assert (report.kind is ReportKind.BOUNCE) == bool(report.failures)
    if report.kind is ReportKind.COMPLAINT:
        assert report.complaint_recipient in (None, (report.complaint_recipient or "").lower())
    for failure in report.failures:
        assert "\n" not in failure.diagnostic
        assert len(failure.diagnostic) <= 500
        assert failure.status is None or CODE.fullmatch(failure.status)
        assert failure.recipient is None or failure.recipient == failure.recipient.lower()
        assert failure.bounce_class == classify(failure.status, permanent=failure.permanent)
    if report.returned_message_id is not None:
        assert re.fullmatch(r"<\S+>", report.returned_message_id)


# --- Every fixture ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES, ids=[fixture.name for fixture in FIXTURES])
def test_each_fixture_reads_as_expected(fixture: Expected) -> None:
    report = read_report(rendered(fixture.name))
    if fixture.kind == "none":
        assert report is None
        return
    assert report is not None
    assert_well_formed(report)
    assert report.kind == fixture.kind
    assert report.returned_message_id == (MESSAGE_ID if fixture.has_message_id else None)
    assert report.returned_envelope_sender == (VERP if fixture.has_envelope_sender else None)
    if fixture.kind == "complaint":
        assert report.failures == ()
        assert report.feedback_type == fixture.feedback_type
        assert report.complaint_recipient == (RECIPIENT.lower() if fixture.has_recipient else None)
        return
    assert (report.feedback_type, report.complaint_recipient) == (None, None)
    (failure,) = report.failures
    assert failure.recipient == (RECIPIENT.lower() if fixture.has_recipient else None)
    assert (failure.status, failure.bounce_class) == (fixture.status, fixture.bounce_class)
    assert failure.diagnostic


@pytest.mark.parametrize("fixture", FIXTURES, ids=[fixture.name for fixture in FIXTURES])
def test_line_ends_do_not_matter(fixture: Expected) -> None:
    crlf = rendered(fixture.name)
    assert read_report(crlf.replace(b"\r\n", b"\n")) == read_report(crlf)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[fixture.name for fixture in FIXTURES])
def test_what_flufl_bounce_finds_in_each_fixture(fixture: Expected) -> None:
    """The record behind the docstring of outreach.feedback.reports: flufl.bounce gives addresses only."""
    if fixture.name == "empty":
        pytest.skip("flufl.bounce's Yale detector raises IndexError on a message without a From header")
    temporary, permanent = all_failures(email.message_from_bytes(rendered(fixture.name)))
    found = "permanent" if permanent else "temporary" if temporary else "none"
    assert found == fixture.flufl
    assert {address.decode().lower() for address in temporary | permanent} <= {RECIPIENT.lower()}


def test_every_template_is_listed_and_every_listing_has_a_template() -> None:
    assert sorted(path.name for path in FIXTURE_DIR.glob("*.eml")) == sorted(f.file for f in FIXTURES)
    for fixture in FIXTURES:
        template = (FIXTURE_DIR / fixture.file).read_bytes()
        assert b"\r" not in template
        assert set(re.findall(rb"\{\{[^}]*\}\}", template)) <= {
            b"{{VERP}}",
            b"{{RECIPIENT}}",
            b"{{MESSAGE_ID}}",
            b"{{FROM}}",
        }


def test_render_fills_every_placeholder() -> None:
    raw = render("qmail-no-mailbox", verp=VERP, recipient=RECIPIENT, message_id=MESSAGE_ID, sender=SENDER)
    assert b"{{" not in raw
    assert raw.count(b"\n") == raw.count(b"\r\n") > 0
    assert f"From: {SENDER}".encode() not in raw  # From has our network's name before the address
    assert f"<{SENDER}>".encode() in raw
    assert expected("qmail-no-mailbox.eml") == expected("qmail-no-mailbox")


# --- What the fixtures show, one thing at a time ------------------------------------------------------


def test_the_diagnostic_is_one_line_without_its_type() -> None:
    assert only_failure("postfix-user-unknown").diagnostic == (
        f"550 5.1.1 <{RECIPIENT}>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    gmail = only_failure("gmail-user-unknown").diagnostic
    assert gmail.startswith("550-5.1.1 The email account that you tried to reach does not exist. Please try")
    assert "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser" in gmail


def test_without_a_diagnostic_code_the_notification_says_why() -> None:
    failure = only_failure("postfix-expired")
    assert failure.diagnostic == (
        f"<{RECIPIENT}>: connect to mx2.example-boeki.co.jp[203.0.113.41]:25: Connection timed out"
    )
    assert (failure.permanent, failure.bounce_class) == (True, BounceClass.SOFT)
    assert only_failure("exchange-2003-ndr").diagnostic == "<mail.example-denki.co.jp #5.1.1>"


def test_a_text_bounce_gets_its_code_from_the_text_next_to_the_address() -> None:
    assert only_failure("qmail-no-mailbox").diagnostic == (
        f"<{RECIPIENT}>: Sorry, no mailbox here by that name. vpopmail (#5.1.1)"
    )
    exim = only_failure("exim-cut")
    assert (exim.status, "550-5.1.1" in exim.diagnostic) == ("5.1.1", True)
    yahoo = only_failure("yahoo-legacy-no-account")
    assert (yahoo.status, yahoo.permanent, yahoo.bounce_class) == (None, True, BounceClass.SOFT)
    assert "dd This user doesn't have a yahoo.com account" in yahoo.diagnostic


def test_a_bounce_naming_no_address_we_know_is_found_by_its_code() -> None:
    report = report_of("ezweb-forward-rejected")
    (failure,) = report.failures
    assert (failure.recipient, failure.permanent) == (None, True)
    assert failure.diagnostic.startswith("<<< 550 5.7.1 Unfortunately, messages from [111.86.156.22]")
    assert (report.returned_message_id, report.returned_envelope_sender) == (None, None)


def test_a_carriers_550_without_a_code_is_soft() -> None:
    """au and SoftBank answer a bare 550: the relay's 5.0.0 proves nothing about the address."""
    for name in ("au-user-unknown", "softbank-invalid-recipient"):
        failure = only_failure(name)
        assert (failure.status, failure.bounce_class) == ("5.0.0", BounceClass.SOFT)


def test_only_failed_recipients_are_failures() -> None:
    template = rendered("postfix-user-unknown").decode()
    start = template.index("Final-Recipient")
    block = template[start : template.index("\r\n\r\n--", start)]
    other = block.replace(RECIPIENT, "hanako@example-shoji.co.jp").replace("5.1.1", "4.2.2")
    for action in ("delayed", "delivered", "relayed", "expanded"):
        not_failed = other.replace("Action: failed", f"Action: {action}")
        (failure,) = report_of_raw(template.replace(block, f"{block}\r\n\r\n{not_failed}").encode()).failures
        assert failure.recipient == RECIPIENT.lower()
        only_that = template.replace(block, block.replace("Action: failed", f"Action: {action}"))
        assert read_report(only_that.encode()) is None
    two = report_of_raw(template.replace(block, f"{block}\r\n\r\n{other}").encode())
    assert [(f.recipient, f.status) for f in two.failures] == [
        (RECIPIENT.lower(), "5.1.1"),
        ("hanako@example-shoji.co.jp", "4.2.2"),
    ]


def test_a_complaint_names_its_reader_by_original_rcpt_to_else_removal_recipient() -> None:
    raw = rendered("arf-rfc5965").replace(f"Original-Rcpt-To: <{RECIPIENT}>\r\n".encode(), b"")
    assert report_of_raw(raw).complaint_recipient == RECIPIENT.lower()
    none = raw.replace(f"Removal-Recipient: {RECIPIENT}\r\n".encode(), b"")
    assert report_of_raw(none).complaint_recipient is None


@pytest.mark.parametrize(("feedback_type", "kind"), [("fraud", "complaint"), ("not-spam", None)])
def test_not_spam_feedback_is_no_complaint(feedback_type: str, kind: str | None) -> None:
    raw = rendered("arf-rfc5965").replace(b"Feedback-Type: abuse", f"Feedback-Type: {feedback_type}".encode())
    report = read_report(raw)
    assert (report.kind if report else None) == kind


def test_a_folded_returned_message_id_is_joined() -> None:
    raw = rendered("sendmail-user-unknown").replace(
        f"Message-ID: {MESSAGE_ID}".encode(), f"Message-ID:\r\n {MESSAGE_ID}".encode()
    )
    assert report_of_raw(raw).returned_message_id == MESSAGE_ID


def test_raw_8bit_headers_are_read_as_utf8() -> None:
    """A gateway that writes its subject and sender raw: the bounce rules still read them."""
    raw = rendered("ezweb-forward-rejected")
    raw = raw.replace(b"Subject: Mail System Error - Returned Mail", "Subject: 配信不能".encode())
    raw = raw.replace(b"From: Postmaster@ezweb.ne.jp", "From: 配信システム <info@ezweb.ne.jp>".encode())
    assert only_failure_of(raw).status == "5.7.1"
    assert read_report(raw.replace("Subject: 配信不能".encode(), b"Subject: Re: hello")) is None


def only_failure_of(raw: bytes) -> Failure:
    (failure,) = report_of_raw(raw).failures
    return failure


def test_an_auto_reply_is_no_bounce_even_with_a_code_in_it() -> None:
    raw = rendered("vacation-ja").replace(b"\r\n\r\n", b"\r\n\r\n550 5.1.1 (quoted by a reader)\r\n", 1)
    assert read_report(raw) is None


# --- classify ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "permanent", "bounce_class"),
    [
        ("5.1.1", True, BounceClass.HARD),
        ("5.1.10", True, BounceClass.HARD),
        ("5.1.2", True, BounceClass.HARD),
        ("5.2.1", True, BounceClass.HARD),
        ("5.2.2", True, BounceClass.SOFT),
        ("5.1.7", True, BounceClass.POLICY),
        ("5.1.8", True, BounceClass.POLICY),
        ("5.7.1", True, BounceClass.POLICY),
        ("5.7.26", True, BounceClass.POLICY),
        ("5.7.708", True, BounceClass.POLICY),
        ("5.6.0", True, BounceClass.POLICY),
        ("5.3.4", True, BounceClass.POLICY),
        ("5.2.3", True, BounceClass.POLICY),
        ("5.0.0", True, BounceClass.SOFT),
        ("5.4.4", True, BounceClass.SOFT),
        ("5.5.0", True, BounceClass.SOFT),
        ("4.4.1", True, BounceClass.SOFT),
        ("4.2.2", False, BounceClass.SOFT),
        ("4.1.1", False, BounceClass.SOFT),
        (None, True, BounceClass.SOFT),
        (None, False, BounceClass.SOFT),
        ("5.1.1.1", True, BounceClass.SOFT),
        ("5.01.1", True, BounceClass.SOFT),
        ("", True, BounceClass.SOFT),
    ],
)
def test_the_class_of_each_status(status: str | None, permanent: bool, bounce_class: BounceClass) -> None:
    assert classify(status, permanent=permanent) is bounce_class


@pytest.mark.parametrize(
    "status", ["5.1.1", "5.1.10", "5.2.1", "5.2.2", "5.1.7", "5.7.1", "5.6.0", "5.3.4", "5.0.0", "5.4.4"]
)
def test_classify_agrees_with_the_send_time_policy(status: str) -> None:
    """The same code means the same at send time (outreach.policy) and in a report (5.2.3 aside)."""
    now = datetime(2026, 6, 3, tzinfo=UTC)
    reply = SmtpReply(550, f"{status} refused", "RCPT")
    decision = RetryPolicy().decide(reply, attempts=1, queued_at=now, now=now)
    at_send_time = {Bounce.HARD: BounceClass.HARD, Bounce.SOFT: BounceClass.SOFT, None: BounceClass.POLICY}
    assert classify(status, permanent=True) is at_send_time[decision.bounce]


# --- Garbage never raises -----------------------------------------------------------------------------


@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert_well_formed(read_report(raw))


@given(
    st.sampled_from([fixture.name for fixture in FIXTURES]),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=40)), min_size=1, max_size=6),
    st.integers(min_value=0),
)
def test_mutated_fixtures_never_raise(name: str, edits: list[tuple[int, bytes]], cut: int) -> None:
    raw = bytearray(rendered(name))
    for position, replacement in edits:
        at = position % (len(raw) + 1)
        raw[at : at + len(replacement)] = replacement
    assert_well_formed(read_report(bytes(raw[: cut % (len(raw) + 1) or None])))


REPORT_LINES = [
    "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
    "Content-Type: multipart/report; report-type=feedback-report; boundary=b",
    "Content-Type: message/delivery-status",
    "Content-Type: message/feedback-report",
    "Content-Type: message/rfc822",
    "Content-Type: text/rfc822-headers",
    "Content-Type: text/plain; charset=x-bogus",
    "Content-Transfer-Encoding: base64",
    "--b",
    "--b--",
    "",
    "Action: failed",
    "Status: 5.1.1",
    "Final-Recipient: rfc822;",
    "Final-Recipient: rfc822; a@b",
    "Diagnostic-Code: smtp; 550 5.1.1 x" * 40,
    "Feedback-Type: abuse",
    "From: MAILER-DAEMON@x",
    "Subject: failure notice",
    "Subject: 配信不能",  # raw UTF-8
    "Message-ID: <",
    "Return-Path: <>",
    "\x00\udcff",  # a NUL, and a byte that is no UTF-8
    "=?x-unknown?b?AAAA?=",
]


@given(st.lists(st.sampled_from(REPORT_LINES), max_size=40))
def test_report_shaped_garbage_never_raises(lines: list[str]) -> None:
    assert_well_formed(read_report("\r\n".join(lines).encode("utf-8", "surrogateescape")))


def test_huge_lines_and_deep_nesting_are_read_or_refused() -> None:
    huge = rendered("qmail-no-mailbox").replace(
        b"Sorry, no mailbox", b"x" * 2_000_000 + b" Sorry, no mailbox"
    )
    failure = only_failure_of(huge)
    assert (failure.status, len(failure.diagnostic)) == ("5.1.1", 500)
    level = b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n"
    nested = b"".join(level % (depth, depth) for depth in range(3000))  # deeper than the recursion limit
    assert read_report(b"From: MAILER-DAEMON@x\r\nSubject: failure notice\r\n" + nested) is None
