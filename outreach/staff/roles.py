"""What each role may see and do in the console: the one table that the console's guard asks."""

from __future__ import annotations

__all__ = ["Permission", "allows", "home_permission"]

import enum

from outreach.staff.models import StaffRole


class Permission(enum.StrEnum):
    """A part of the console, or an action in it."""

    DASHBOARD = "dashboard"  # the issues, their states and recipients (read-only)
    AUDIT_LOG = "audit-log"
    ORGANIZATION = "organization"  # the member organizations' pages: an org-editor only their own
    APPROVE = "approve"  # sign off an issue (決裁): outreach.usecases.approval asks this too
    SEND = "send"  # send now, schedule, pause, resume and cancel a send
    CONTENT = "content"  # meeting outcomes and promotions: list, add, edit
    COMPOSE = "compose"  # compose, edit and delete drafts; test-send renditions


_GRANTS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.ADMIN: frozenset(Permission),
    StaffRole.STAFF: frozenset(
        {
            Permission.DASHBOARD,
            Permission.AUDIT_LOG,
            Permission.SEND,
            Permission.CONTENT,
            Permission.COMPOSE,
            Permission.ORGANIZATION,
        }
    ),
    StaffRole.APPROVER: frozenset({Permission.DASHBOARD, Permission.AUDIT_LOG, Permission.APPROVE}),
    StaffRole.ORG_EDITOR: frozenset({Permission.ORGANIZATION}),
}


def allows(role: StaffRole, permission: Permission) -> bool:
    return permission in _GRANTS[role]


def home_permission(role: StaffRole) -> Permission:
    """The page a user lands on after logging in."""
    return Permission.ORGANIZATION if role is StaffRole.ORG_EDITOR else Permission.DASHBOARD
