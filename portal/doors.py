"""The member's doors: which they may open and why, a paid door's confirmation, Open, the answer.

The door rules decide (accessctl.decisions) and the unlock service opens, pays and logs
(accessctl.unlocks.door_unlock), exactly as for the app. Each Open button carries its own
idempotency key, made when the page is rendered, so pressing it twice (or reloading the
answer) opens and pays once. The position comes from the browser's Geolocation API
(static/portal/geolocation.js) for geofenced doors; everything else works without it.
"""

import uuid

from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from accessctl.decisions import (
    NOT_FROM_APP,
    Decision,
    distance_text,
    door_decide,
    door_tag_origin,
    doors_decided,
)
from accessctl.models import Door, DoorRules, UnlockAttempt
from accessctl.unlocks import door_unlock
from portal.forms import OpenForm
from portal.framing import portal_page
from portal.sessions import member_required, portal_render


def _needs_confirmation(decision: Decision) -> bool:
    """A visit that takes credits is confirmed with its price first."""
    return decision.method == UnlockAttempt.Method.PAYMENT and decision.credits > 0


def _offer(member, door: Door, decision: Decision) -> dict:
    rules = door.rules
    why = decision.reason
    if decision.method == UnlockAttempt.Method.TAG:
        origin = door_tag_origin(client=member, door=door)
        why = f"Opens with {origin}." if origin else decision.reason
    elif decision.method == UnlockAttempt.Method.PAYMENT and decision.visit_type is not None:
        paid_by = decision.client_package.package.name if decision.client_package else ""
        why = f"Paid visit ({decision.visit_type.name}), from your {paid_by}." if decision.credits else (
            f"Paid visit ({decision.visit_type.name}), covered by your {paid_by}.")
    return {
        "door": door, "decision": decision, "why": why, "geofenced": rules.geofence,
        "paid": _needs_confirmation(decision), "key": uuid.uuid4().hex,
        # Without a position a geofenced door cannot be decided yet: say so quietly, not as a refusal.
        "hint": decision.reason if rules.geofence and decision.inside_geofence is None else "",
    }


@portal_page
@require_GET
@member_required
def doors(request):
    """The doors the member may open now (with why and the price in credits), and those they
    may not (with the reason the door rules give)."""
    member = request.member
    decided = doors_decided(client=member, latitude=None, longitude=None)
    return portal_render(request, "portal/doors.html", {
        "openable": [_offer(member, door, d) for door, d in decided if d.entitled],
        "closed": [(door, d) for door, d in decided if not d.entitled and d.reason != NOT_FROM_APP],
    })


@portal_page
@require_GET
@member_required
def door_confirm(request, door_id: int):
    """A paid door: the price and the package that pays, and the button that opens and pays."""
    door = get_object_or_404(Door.objects.select_related("location", "rules"), pk=door_id, is_active=True)
    decision = door_decide(client=request.member, door=door, latitude=None, longitude=None)
    if not _needs_confirmation(decision):
        return redirect("portal:doors")
    return portal_render(request, "portal/confirm.html", {"offer": _offer(request.member, door, decision)})


@portal_page
@require_POST
@member_required
def door_open(request, door_id: int):
    """Open a door with the rendered button's idempotency key and the position, if any."""
    door = get_object_or_404(Door.objects.select_related("location"), pk=door_id)
    form = OpenForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        return portal_render(request, "portal/refused.html", {"message": f"That button sent something odd: "
                                                                         f"{errors} Go back and try again."},
                             status=400)
    data = form.cleaned_data
    if not data["confirmed"]:
        decision = door_decide(client=request.member, door=door, latitude=data["latitude"],
                               longitude=data["longitude"])
        if _needs_confirmation(decision):
            return redirect("portal:door-confirm", door_id=door.pk)
    attempt = door_unlock(client=request.member, door=door, request_id=data["key"],
                          latitude=data["latitude"], longitude=data["longitude"])
    return redirect("portal:attempt", attempt_id=attempt.pk)


@portal_page
@require_GET
@member_required
def attempt(request, attempt_id: int):
    """The answer to an Open: opened, refused in red with the reason, or the door failed."""
    found = get_object_or_404(UnlockAttempt.objects.select_related("door", "door__location", "client_package",
                                                                   "client_package__package"),
                              pk=attempt_id, client=request.member)
    rules = DoorRules.objects.filter(door=found.door, geofence=True).first()
    near = ""
    if rules is not None and found.distance_m is not None and found.outcome == UnlockAttempt.Outcome.OPENED:
        far = distance_text(metres=found.distance_m, unit=rules.geofence_unit)
        near = f"You were {far} from {found.door.location}."
    return portal_render(request, "portal/attempt.html", {
        "attempt": found, "near": near, "pending": found.outcome == UnlockAttempt.Outcome.PENDING})
