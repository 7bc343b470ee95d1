"""The member app's login endpoints: credentials (the login proxy) and partner member tokens."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.api import (
    THROTTLED,
    TOKEN_PAIR_EXAMPLE,
    ErrorSerializer,
    TokenPairSerializer,
    refused,
    refused_example,
    token_pair_response,
)
from clients.api_input import StrictRequestSerializer
from clients.throttles import LoginIPThrottle, MemberTokenIPThrottle, client_ip
from clients.tokens import member_tokens_issue
from integrations.logins import (
    LOCKED,
    LOGIN_REFUSED,
    TOKEN_REFUSED,
    UNAVAILABLE,
    NoSuchTokenIntegration,
    member_login,
    member_token_login,
    token_integration,
)


class LoginRequestSerializer(StrictRequestSerializer):
    identifier = serializers.CharField(max_length=254, help_text="E-mail, member number or login id.")
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})
    device_id = serializers.CharField(
        required=False, min_length=16, max_length=128,
        help_text="A random id the app makes once per installation (e.g. a UUID) and keeps private. After "
                  "a successful login from it, that device's correct password is not held up by other "
                  "people's wrong guesses for this identifier.")


class MemberTokenRequestSerializer(StrictRequestSerializer):
    integration = serializers.CharField(
        required=False, allow_blank=True, max_length=64,
        help_text="The integration's id or kind; may be left out when only one takes member tokens.")
    token = serializers.CharField(max_length=4096, help_text="The partner app's encrypted member id.")


class LoginView(APIView):
    """Log a member in with Gatehouse's or a member system's credentials."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIPThrottle]  # a flood guard per address; identifiers: clients.lockout

    @extend_schema(
        request=LoginRequestSerializer,
        responses={
            200: TokenPairSerializer,
            400: OpenApiResponse(description="Identifier or password missing."),
            401: OpenApiResponse(ErrorSerializer, description="The same answer for an unknown account, a "
                                 "wrong password and a member system that did not answer."),
            429: THROTTLED,
            503: OpenApiResponse(ErrorSerializer, description="No member system could answer (the same for "
                                 "every identifier); wait Retry-After seconds. The attempt did not count."),
        },
        examples=[
            OpenApiExample("Credentials", request_only=True,
                           value={"identifier": "ada@example.com", "password": "correct horse",
                                  "device_id": "6f1c2b0e-9a4d-4c53-8e21-5d7f3a9b1c42"}),
            TOKEN_PAIR_EXAMPLE,
            refused_example(LOGIN_REFUSED),
            OpenApiExample("Locked", value={"detail": LOCKED}, response_only=True, status_codes=["429"]),
            OpenApiExample("Unavailable", value={"detail": UNAVAILABLE}, response_only=True, status_codes=["503"]),
        ],
        summary="Log a member in (Gatehouse credentials, then each member system in login order).",
        tags=["member auth"],
    )
    def post(self, request):
        given = LoginRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        outcome = member_login(identifier=data["identifier"], password=data["password"], ip=client_ip(request),
                               device_key=data.get("device_id", ""))
        if outcome.unavailable:
            return Response({"detail": UNAVAILABLE}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": str(outcome.retry_after)})
        if outcome.locked:
            return Response({"detail": LOCKED}, status=status.HTTP_429_TOO_MANY_REQUESTS,
                            headers={"Retry-After": str(outcome.retry_after)})
        if not outcome.ok:
            return refused(LOGIN_REFUSED)
        return token_pair_response(member_tokens_issue(client=outcome.client))


class MemberTokenView(APIView):
    """Log a member in with the encrypted member id a partner app holds (e.g. Gladstone)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [MemberTokenIPThrottle]

    @extend_schema(
        request=MemberTokenRequestSerializer,
        responses={
            200: TokenPairSerializer,
            400: OpenApiResponse(description="No token, or not one active integration taking tokens."),
            401: OpenApiResponse(ErrorSerializer, description="Tampered, expired, replayed or unknown."),
            429: THROTTLED,
        },
        examples=[
            OpenApiExample("Member token", value={"integration": "gladstone", "token": "gAAAAABn-example"},
                           request_only=True),
            TOKEN_PAIR_EXAMPLE,
            refused_example(TOKEN_REFUSED),
        ],
        summary="Log a member in with a partner app's member token.", tags=["member auth"],
    )
    def post(self, request):
        given = MemberTokenRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            integration = token_integration(reference=given.validated_data.get("integration"))
        except NoSuchTokenIntegration:
            return Response({"integration": ["Name one active integration that takes member tokens."]},
                            status=status.HTTP_400_BAD_REQUEST)
        outcome = member_token_login(integration=integration, token=given.validated_data["token"],
                                     ip=client_ip(request))
        if not outcome.ok:
            return refused(TOKEN_REFUSED)
        return token_pair_response(member_tokens_issue(client=outcome.client))
