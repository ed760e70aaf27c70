"""The outbox ledger: one delivery row per (issue, subscriber), which makes sends idempotent and resumable.

Rows move queued -> sending (claimed by a worker) -> sent | deferred | failed | bounced, or unknown when a
worker stopped with the message in flight (then queued again, or held for staff to decide); cancelled when
staff cancel the issue or the subscriber leaves. This package is the only writer of the deliveries and
their attempt rows: `queue` (rows of a send), `claims` (fenced claims and leases), `outcomes` (replies),
`returns` (bounce reports and complaints that come back after the relay took a message).
"""

from __future__ import annotations

__all__ = [
    "OPEN_STATES",
    "Claimed",
    "Outcome",
    "Recorded",
    "Returned",
    "bounce_subscribers",
    "cancel_rows",
    "cancel_subscriber_rows",
    "claim_rows",
    "decide_held",
    "enqueue_issue",
    "find_delivery",
    "has_due_rows",
    "held_rows",
    "mark_unknown",
    "open_rows",
    "record_bounce",
    "record_complaint",
    "record_outcomes",
    "release_rows",
    "renew_claims",
    "reopen_rows",
    "sending_issues",
    "stale_claims",
    "status_counts",
]

from outreach.outbox.claims import Claimed, claim_rows, release_rows, renew_claims, stale_claims
from outreach.outbox.outcomes import Outcome, Recorded, held_rows, mark_unknown, record_outcomes
from outreach.outbox.queue import (
    OPEN_STATES,
    cancel_rows,
    cancel_subscriber_rows,
    decide_held,
    enqueue_issue,
    has_due_rows,
    open_rows,
    reopen_rows,
    sending_issues,
    status_counts,
)
from outreach.outbox.returns import (
    Returned,
    bounce_subscribers,
    find_delivery,
    record_bounce,
    record_complaint,
)
