"""Which entries of the feed are sent at once, which wait for the next regular issue, which are only kept.

Each entry falls in one class by its type (infoType) and, for risk and infection-risk information, by how its
level changed; each class has an action. The defaults follow what companies abroad need at once: a raised
level, an urgent embassy message and spot information go out now; wide-area information, lowered or
unchanged levels and general embassy messages wait for the next regular issue. OUTREACH_ALERTS_RULES changes
any of them, e.g. `wide-area=now,embassy-general=record`; `outreach alerts rules` shows the rules in force.
"""

from __future__ import annotations

__all__ = ["CLASSES", "DEFAULT_RULES", "Rules", "classify", "levelled", "parse_rules"]

from collections.abc import Mapping
from dataclasses import dataclass

from outreach.alerts.models import AlertAction
from outreach.errors import InvalidInput

# class -> (what it is in Japanese, in English)
CLASSES: dict[str, tuple[str, str]] = {
    "risk-raised": ("危険情報：危険レベルの引き上げ", "Risk information: a level raised"),
    "risk-lowered": ("危険情報：危険レベルの引き下げ", "Risk information: a level lowered"),
    "risk-same": ("危険情報：危険レベルの継続", "Risk information: levels unchanged"),
    "infection-raised": ("感染症危険情報：レベルの引き上げ", "Infectious disease risk: a level raised"),
    "infection-lowered": ("感染症危険情報：レベルの引き下げ", "Infectious disease risk: a level lowered"),
    "infection-same": ("感染症危険情報：レベルの継続", "Infectious disease risk: levels unchanged"),
    "spot": ("スポット情報", "Spot information"),
    "wide-area": ("広域情報", "Wide-area information"),
    "embassy-urgent": ("領事メール（緊急）", "Embassy message (urgent)"),
    "embassy-general": ("領事メール（一般）", "Embassy message (general)"),
    "other": ("その他の情報", "Other information"),
}

DEFAULT_RULES: dict[str, AlertAction] = {
    "risk-raised": AlertAction.NOW,
    "risk-lowered": AlertAction.DIGEST,
    "risk-same": AlertAction.DIGEST,
    "infection-raised": AlertAction.NOW,
    "infection-lowered": AlertAction.DIGEST,
    "infection-same": AlertAction.DIGEST,
    "spot": AlertAction.NOW,
    "wide-area": AlertAction.DIGEST,
    "embassy-urgent": AlertAction.NOW,
    "embassy-general": AlertAction.DIGEST,
    "other": AlertAction.RECORD,
}

# Public readers of the feed disagree on the infection-risk type (T41, T81); one also saw C31 and C51, the
# spot and wide-area information about an infectious disease. All are known here (outreach.alerts.parse).
_BY_TYPE = {
    "C30": "spot",
    "C31": "spot",
    "C50": "wide-area",
    "C51": "wide-area",
    "R10": "embassy-general",
    "R20": "embassy-urgent",
}
_LEVELLED = {"T40": "risk", "T41": "infection", "T81": "infection"}


def levelled(info_type: str) -> str | None:
    """The kind of levels a type's entries carry: "risk" (T40), "infection" (T41, T81), else None."""
    return _LEVELLED.get(info_type)


def classify(info_type: str, change: str) -> str:
    """The class of an entry: its type, and for T40/T41 how its level changed (raised, lowered, same)."""
    if info_type in _LEVELLED:
        return f"{_LEVELLED[info_type]}-{change if change in ('lowered', 'same') else 'raised'}"
    return _BY_TYPE.get(info_type, "other")


@dataclass(frozen=True)
class Rules:
    """The action of each class."""

    actions: Mapping[str, AlertAction]

    def action(self, rule: str) -> AlertAction:
        return self.actions.get(rule, AlertAction.RECORD)

    def changed(self) -> dict[str, AlertAction]:
        """The classes whose action differs from the default."""
        return {rule: action for rule, action in self.actions.items() if DEFAULT_RULES[rule] != action}


def parse_rules(text: str) -> Rules:
    """The default rules with the changes `text` names ("class=action,…"); InvalidInput names a bad one."""
    actions = dict(DEFAULT_RULES)
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        rule, equals, action = (word.strip() for word in part.partition("="))
        if not equals or rule not in CLASSES:
            known = ", ".join(CLASSES)
            raise InvalidInput(
                f"OUTREACH_ALERTS_RULES: {part!r} is not class=action; the classes are {known}"
            )
        try:
            actions[rule] = AlertAction(action)
        except ValueError:
            raise InvalidInput(
                f"OUTREACH_ALERTS_RULES: {action!r} for {rule} is not now, digest or record"
            ) from None
    return Rules(actions)
