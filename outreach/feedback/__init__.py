"""Bounce and complaint reports that come back to our envelope sender, read into what they say.

`read_report` reads a raw message: an RFC 3464 bounce, another MTA's bounce (through flufl.bounce), or an
RFC 5965 complaint; `classify` tells what a bounce's status code says about the address. The modules:
`reports` (the rules, and where flufl.bounce is used), `dsn` (delivery-status and feedback-report
fields), `text` (the notification text and the returned original), `classes` (the table of codes).
"""

from __future__ import annotations

__all__ = ["Failure", "Report", "ReportKind", "classify", "read_report"]

from outreach.feedback.classes import classify
from outreach.feedback.reports import Failure, Report, ReportKind, read_report
