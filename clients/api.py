"""The member app's token endpoints (refresh, logout) and the serializers other APIs share."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.api_input import StrictRequestSerializer
from clients.authentication import IsMember, MemberTokenAuthentication
from clients.models import Client
from clients.throttles import TokenRefreshIPThrottle
from clients.tokens import TokenRefused, member_token_refresh, member_tokens_revoke_family


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class MemberClientSerializer(serializers.ModelSerializer):
    home_location = serializers.StringRelatedField()

    class Meta:
        model = Client
        fields = ["id", "first_name", "last_name", "email", "phone", "alt_id", "is_active", "home_location"]


class TokenPairSerializer(serializers.Serializer):
    token_type = serializers.CharField(help_text="Always Bearer.")
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`.")
    access_expires = serializers.DateTimeField()
    refresh = serializers.CharField(help_text="Trade at /api/v1/auth/refresh; single use (sent again within a "
                                    "few seconds, e.g. by a retry, it gets the same new pair back).")
    refresh_expires = serializers.DateTimeField()
    client = MemberClientSerializer()


UNAUTHORISED = {"WWW-Authenticate": 'Bearer realm="gatehouse"'}
THROTTLED = OpenApiResponse(ErrorSerializer, description="Too many attempts; wait Retry-After seconds.")


def refused(detail: str) -> Response:
    """A 401 with the one message of its endpoint, whatever the reason was."""
    return Response({"detail": detail}, status=status.HTTP_401_UNAUTHORIZED, headers=UNAUTHORISED)


def refused_example(detail: str) -> OpenApiExample:
    return OpenApiExample("Refused", value={"detail": detail}, response_only=True, status_codes=["401"])


TOKEN_PAIR_EXAMPLE = OpenApiExample(
    "Logged in",
    value={
        "token_type": "Bearer", "access": "gha_Qm9vdHN0cmFwLWFjY2Vzcy10b2tlbi1leGFtcGxl",
        "access_expires": "2026-01-05T09:15:00Z",
        "refresh": "ghr_UmVmcmVzaC10b2tlbi1leGFtcGxlLW9ubHktb25jZQ",
        "refresh_expires": "2026-02-04T09:00:00Z",
        "client": {"id": 42, "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                   "phone": "", "alt_id": "M1042", "is_active": True, "home_location": "Riverside"},
    },
    response_only=True, status_codes=["200"],
)


def token_pair_response(pair) -> Response:
    """The 200 answer of a login or refresh."""
    return Response(TokenPairSerializer({**pair.as_json(), "client": pair.client}).data)


class RefreshRequestSerializer(StrictRequestSerializer):
    refresh = serializers.CharField(max_length=200)


REFRESH_REFUSED = "Invalid or expired refresh token."


class TokenRefreshView(APIView):
    """Trade a refresh token for a new pair (the old refresh token stops working)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenRefreshIPThrottle]

    @extend_schema(
        request=RefreshRequestSerializer,
        responses={
            200: TokenPairSerializer, 400: OpenApiResponse(description="No refresh token given."),
            401: OpenApiResponse(ErrorSerializer, description="Unknown, expired, revoked or reused token; "
                                 "a reused one also ends every token of its login (unless reused within "
                                 "MEMBER_REFRESH_GRACE_SECONDS of its rotation: that gets the same new pair)."),
            429: THROTTLED,
        },
        examples=[OpenApiExample("Refresh", value={"refresh": "ghr_UmVmcmVzaC10b2tlbi1leGFtcGxl"},
                                 request_only=True), TOKEN_PAIR_EXAMPLE, refused_example(REFRESH_REFUSED)],
        summary="Refresh the member's tokens (rotation).", tags=["member auth"],
    )
    def post(self, request):
        given = RefreshRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            pair = member_token_refresh(refresh_token=given.validated_data["refresh"])
        except TokenRefused:
            return refused(REFRESH_REFUSED)
        return token_pair_response(pair)


class LogoutView(APIView):
    """End this app session: its access and refresh tokens stop working."""

    authentication_classes = [MemberTokenAuthentication]
    permission_classes = [IsMember]

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Logged out."),
                   401: OpenApiResponse(ErrorSerializer, description="No valid access token.")},
        summary="Log the member out (revokes this login's tokens).", tags=["member auth"],
    )
    def post(self, request):
        member_tokens_revoke_family(family=request.auth.family)
        return Response(status=status.HTTP_204_NO_CONTENT)
