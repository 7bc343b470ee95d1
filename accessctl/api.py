"""The member app's doors: the doors I can open, and unlocking one (under /api/v1/)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accessctl.decisions import Decision, doors_openable
from accessctl.models import Door, UnlockAttempt
from accessctl.unlocks import door_unlock
from clients.api_input import StrictRequestSerializer
from clients.authentication import IsMember, MemberTokenAuthentication
from clients.selectors import client_for_request


class PositionSerializer(serializers.Serializer):
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError("Send both latitude and longitude, or neither.")
        return attrs


class UnlockRequestSerializer(StrictRequestSerializer, PositionSerializer):
    idempotency_key = serializers.CharField(
        required=False, max_length=64,
        help_text="The same key for a repeated submit of one tap; the Idempotency-Key header wins.",
    )


class GeofenceSerializer(serializers.Serializer):
    radius = serializers.IntegerField()
    unit = serializers.ChoiceField(choices=["ft", "m"])
    radius_m = serializers.FloatField()


class DoorOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    location = serializers.CharField()
    opens_by = serializers.ChoiceField(choices=UnlockAttempt.Method.choices, help_text="tag or payment")
    needs_payment = serializers.BooleanField(help_text="Opening it is a paid visit.")
    credits = serializers.IntegerField(help_text="Credits an unlock takes now (0 by tag or unlimited).")
    visit_type = serializers.CharField(allow_null=True)
    paid_with = serializers.CharField(allow_null=True, help_text="The package that would pay.")
    geofence = GeofenceSerializer(allow_null=True)
    inside_geofence = serializers.BooleanField(
        allow_null=True, help_text="True without a geofence; null when no coordinates were sent."
    )
    distance_m = serializers.FloatField(allow_null=True)
    can_open_now = serializers.BooleanField()
    reason = serializers.CharField()


class UnlockAnswerSerializer(serializers.Serializer):
    attempt = serializers.IntegerField(source="pk")
    outcome = serializers.ChoiceField(choices=UnlockAttempt.Outcome.choices)
    reason = serializers.CharField()
    method = serializers.CharField()
    credits = serializers.IntegerField(help_text="Credits the visit took (given back when refunded).")
    refunded = serializers.BooleanField()
    visit_type = serializers.CharField(source="visit_type_name")
    distance_m = serializers.FloatField(allow_null=True)
    door_answer = serializers.CharField(help_text="What the door system said.")


def offer(door: Door, decision: Decision) -> dict:
    rules = door.rules
    return {
        "id": door.pk, "title": door.title, "location": door.location.name,
        "opens_by": decision.method, "needs_payment": decision.method == UnlockAttempt.Method.PAYMENT,
        "credits": decision.credits,
        "visit_type": decision.visit_type.name if decision.visit_type else None,
        "paid_with": decision.client_package.package.name if decision.client_package else None,
        "geofence": ({"radius": rules.geofence_radius, "unit": rules.geofence_unit, "radius_m": rules.radius_m}
                     if rules.geofence else None),
        "inside_geofence": decision.inside_geofence, "distance_m": decision.distance_m,
        "can_open_now": decision.allowed, "reason": decision.reason,
    }


class MemberView(APIView):
    authentication_classes = [MemberTokenAuthentication]
    permission_classes = [IsMember]


DOORS_EXAMPLE = OpenApiExample("Two doors", response_only=True, value=[
    {"id": 3, "title": "Main entrance", "location": "Riverside", "opens_by": "tag", "needs_payment": False,
     "credits": 0, "visit_type": None, "paid_with": None, "geofence": None, "inside_geofence": True,
     "distance_m": 41.7, "can_open_now": True, "reason": "Your tag opens this door."},
    {"id": 4, "title": "Open gym", "location": "Riverside", "opens_by": "payment", "needs_payment": True,
     "credits": 2, "visit_type": "Open gym visit", "paid_with": "10-visit pack",
     "geofence": {"radius": 500, "unit": "ft", "radius_m": 152.4}, "inside_geofence": False,
     "distance_m": 812.3, "can_open_now": False,
     "reason": "You are 2,665 ft away from Riverside; this door opens within 500 ft."},
])


class DoorListView(MemberView):
    """The doors the member can open (or could, once close enough), each with its cost."""

    @extend_schema(
        parameters=[OpenApiParameter("latitude", float, description="The member's position, if known."),
                    OpenApiParameter("longitude", float)],
        responses={200: DoorOfferSerializer(many=True),
                   400: OpenApiResponse(description="Bad coordinates."),
                   401: OpenApiResponse(description="No valid access token.")},
        examples=[DOORS_EXAMPLE], summary="The doors I can open.", tags=["doors"],
    )
    def get(self, request):
        position = PositionSerializer(data=request.query_params)
        position.is_valid(raise_exception=True)
        where = position.validated_data
        offers = doors_openable(client=client_for_request(request), latitude=where.get("latitude"),
                                longitude=where.get("longitude"))
        return Response(DoorOfferSerializer([offer(door, d) for door, d in offers], many=True).data)


UNLOCK_STATUS = {
    UnlockAttempt.Outcome.OPENED: status.HTTP_200_OK,
    UnlockAttempt.Outcome.REFUSED: status.HTTP_403_FORBIDDEN,
    UnlockAttempt.Outcome.FAILED: status.HTTP_502_BAD_GATEWAY,
    UnlockAttempt.Outcome.PENDING: status.HTTP_409_CONFLICT,
}
ANSWER = {"attempt": 17, "method": "payment", "visit_type": "Open gym visit", "door_answer": ""}
UNLOCK_EXAMPLES = [
    OpenApiExample("Request", request_only=True, value={"latitude": 51.5007, "longitude": -0.1246}),
    OpenApiExample("Opened", response_only=True, status_codes=["200"], value={
        **ANSWER, "outcome": "opened", "reason": "Open gym visit: 2 credits from your 10-visit pack.",
        "credits": 2, "refunded": False, "distance_m": 41.7, "door_answer": "Unlocked!"}),
    OpenApiExample("Refused", response_only=True, status_codes=["403"], value={
        **ANSWER, "outcome": "refused", "method": "", "visit_type": "", "credits": 0, "refunded": False,
        "reason": "Not enough credits: Open gym visit costs 2 credits and your 10-visit pack has 1 left.",
        "distance_m": 41.7}),
    OpenApiExample("Door failed", response_only=True, status_codes=["502"], value={
        **ANSWER, "outcome": "failed", "credits": 2, "refunded": True, "distance_m": 41.7,
        "reason": "The door did not open (Lock is offline). Your 2 credits were refunded.",
        "door_answer": "Lock is offline"}),
]


class DoorUnlockView(MemberView):
    """Open a door: decided by the door rules, paid once per Idempotency-Key, logged."""

    @extend_schema(
        request=UnlockRequestSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                     description="One key per tap (max 64 characters); a repeat "
                                                 "returns the first answer and charges nothing.")],
        responses={200: UnlockAnswerSerializer,
                   400: OpenApiResponse(description="Bad coordinates or no idempotency key."),
                   403: OpenApiResponse(UnlockAnswerSerializer, description="Refused; `reason` says why."),
                   404: OpenApiResponse(description="No such door."),
                   409: OpenApiResponse(UnlockAnswerSerializer, description="This key is being handled."),
                   502: OpenApiResponse(UnlockAnswerSerializer,
                                        description="The door system failed; credits were refunded.")},
        examples=UNLOCK_EXAMPLES, summary="Unlock a door.", tags=["doors"],
    )
    def post(self, request, door_id: int):
        given = UnlockRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        key = (request.headers.get("Idempotency-Key") or given.validated_data.get("idempotency_key") or "").strip()
        if not key or len(key) > 64:
            return Response({"reason": "Send an Idempotency-Key header of 1 to 64 characters."},
                            status=status.HTTP_400_BAD_REQUEST)
        door = get_object_or_404(Door, pk=door_id)
        attempt = door_unlock(client=client_for_request(request), door=door, request_id=key,
                              latitude=given.validated_data.get("latitude"),
                              longitude=given.validated_data.get("longitude"))
        return Response(UnlockAnswerSerializer(attempt).data, status=UNLOCK_STATUS[attempt.outcome])
