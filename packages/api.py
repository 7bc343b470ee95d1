"""The member app's view of itself: GET /api/v1/me (client, active packages, next bookings)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.api import ErrorSerializer, MemberClientSerializer
from clients.authentication import IsMember, MemberTokenAuthentication
from packages.models import Booking, ClientPackage
from packages.selectors import bookings_upcoming, client_packages_active


class MemberPackageSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="package.name")
    package_alt_id = serializers.CharField(source="package.alt_id")
    kind = serializers.CharField(source="package.kind")
    location = serializers.StringRelatedField()
    tier = serializers.StringRelatedField()

    class Meta:
        model = ClientPackage
        fields = ["id", "name", "package_alt_id", "kind", "location", "tier", "start", "end", "status",
                  "credits_remaining"]


class MemberBookingSerializer(serializers.ModelSerializer):
    class_name = serializers.CharField(source="session.name")
    location = serializers.CharField(source="session.location.name")
    start = serializers.DateTimeField(source="session.start")
    end = serializers.DateTimeField(source="session.end")

    class Meta:
        model = Booking
        fields = ["id", "class_name", "location", "start", "end", "status"]


class MeSerializer(serializers.Serializer):
    client = MemberClientSerializer()
    packages = MemberPackageSerializer(many=True)
    bookings = MemberBookingSerializer(many=True)


ME_EXAMPLE = OpenApiExample("A member with a credit pack and one class booked", value={
    "client": {"id": 42, "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
               "phone": "", "alt_id": "M1042", "is_active": True, "home_location": "Riverside"},
    "packages": [{"id": 7, "name": "10 PT sessions", "package_alt_id": "product_26", "kind": "credit_pack",
                  "location": "Riverside", "tier": None, "start": "2026-01-01T00:00:00Z", "end": None,
                  "status": "active", "credits_remaining": 8}],
    "bookings": [{"id": 301, "class_name": "Spin", "location": "Riverside",
                  "start": "2026-01-06T18:00:00Z", "end": "2026-01-06T18:45:00Z", "status": "booked"}],
}, response_only=True)


class MeView(APIView):
    """The logged-in member: who they are, what they hold, what they booked."""

    authentication_classes = [MemberTokenAuthentication]
    permission_classes = [IsMember]

    @extend_schema(
        responses={200: MeSerializer,
                   401: OpenApiResponse(ErrorSerializer, description="No valid access token.")},
        examples=[ME_EXAMPLE], summary="The member, with active packages, credits and upcoming bookings.",
        tags=["member"],
    )
    def get(self, request):
        client = request.user.client
        return Response(MeSerializer({
            "client": client,
            "packages": client_packages_active(client_id=client.pk),
            "bookings": bookings_upcoming(client_id=client.pk),
        }).data)
