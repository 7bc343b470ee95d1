"""Doors and who went through them; one module per concern, every model importable from here.

Submodules import each other directly (never this package), so there is no import circle.
"""

from accessctl.models.doors import AccessRule, Door, DoorAccess, DoorSystemUser, KisiGroup, KisiPlace
from accessctl.models.log import UnlockAttempt
from accessctl.models.rules import DoorRules, VisitAvailability, VisitType
from accessctl.models.sequences import SequenceGrant, TagSequence

__all__ = [
    "AccessRule",
    "Door",
    "DoorAccess",
    "DoorRules",
    "DoorSystemUser",
    "KisiGroup",
    "KisiPlace",
    "SequenceGrant",
    "TagSequence",
    "UnlockAttempt",
    "VisitAvailability",
    "VisitType",
]
