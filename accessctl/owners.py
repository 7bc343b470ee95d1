"""Who owns an access rule: apps above accessctl describe the owner keys they write.

A rule an integration configuration implies is recomputed from that configuration
(on its save and on its syncs), so the admin shows such a rule read-only and points
to where it is edited. accessctl never imports those apps: they register a describer
in their AppConfig.ready.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleOwner:
    """What owns a rule, in the club's words, and the admin page where it is edited."""

    label: str
    url: str


_describers: list[Callable[[str], RuleOwner | None]] = []


def rule_owner_register(describe: Callable[[str], RuleOwner | None]) -> None:
    """Add a describer: it returns the RuleOwner of an owner key it knows, else None."""
    if describe not in _describers:
        _describers.append(describe)


def rule_owner(owner: str) -> RuleOwner | None:
    """The configuration that owns rules with this owner key, None when no app claims it."""
    for describe in _describers:
        found = describe(owner)
        if found is not None:
            return found
    return None
