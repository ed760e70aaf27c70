"""Who may write what: only the outbox writes the delivery ledger, only outreach.states sets an issue's
status, and no module of the engine or the audience side grows past 400 lines (one concept per module)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("outreach", "subscribers")
LEDGER = {"Delivery", "DeliveryAttempt"}
LEDGER_WRITERS = "outreach/outbox/"
STATUS_OWNER = "outreach/states.py"
_WRITES = {"update", "insert", "delete"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=relative)


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def ledger_writes(tree: ast.Module) -> list[int]:
    """Lines that build an UPDATE, INSERT or DELETE of a ledger table, or make a new ledger row."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _name(node.func)
        if (
            (called in _WRITES and any(_name(arg) in LEDGER for arg in node.args))
            or called in LEDGER
            or (isinstance(node.func, ast.Attribute) and _name(node.func.value) == "__table__")
        ):
            lines.append(node.lineno)
    return lines


def issue_status_writes(tree: ast.Module) -> list[int]:
    """Lines that assign an IssueStatus: `x.status = IssueStatus.…` or `.values(status=IssueStatus.…)`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Attribute) and target.attr == "status" for target in node.targets
        ):
            if "IssueStatus" in ast.unparse(node.value):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.keyword)
            and node.arg == "status"
            and "IssueStatus" in ast.unparse(node.value)
        ):
            lines.append(node.value.lineno)
    return lines


def test_only_the_outbox_writes_the_ledger() -> None:
    found = {
        module: lines
        for module, tree in _modules()
        if not module.startswith(LEDGER_WRITERS) and (lines := ledger_writes(tree))
    }
    assert found == {}, f"these write the delivery ledger around the outbox: {found}"


def test_only_the_lifecycle_sets_an_issues_status() -> None:
    found = {
        module: lines
        for module, tree in _modules()
        if module != STATUS_OWNER and (lines := issue_status_writes(tree))
    }
    assert found == {}, f"these set an issue's status around outreach.states: {found}"


@pytest.mark.parametrize(
    ("source", "ledger", "status"),
    [
        ("update(Delivery).values(status=1)", True, False),
        ("session.execute(insert(DeliveryAttempt), rows)", True, False),
        ("session.add(Delivery(issue_id=1))", True, False),
        ("Delivery.__table__.update()", True, False),
        ("select(Delivery.id)", False, False),
        ("issue.status = IssueStatus.SENT", False, True),
        ("update(Issue).values(status=IssueStatus.PAUSED)", False, True),
        ("if issue.status == IssueStatus.SENT: pass", False, False),
    ],
)
def test_the_checks_see_what_they_look_for(source: str, ledger: bool, status: bool) -> None:
    tree = ast.parse(source)
    assert bool(ledger_writes(tree)) == ledger
    assert bool(issue_status_writes(tree)) == status


def test_no_module_is_over_400_lines() -> None:
    long = {
        module: count
        for module, _ in _modules()
        if (count := len((ROOT / module).read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, f"split these by concept: {long}"
