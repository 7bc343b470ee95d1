"""HTTP endpoints of the integrations app: vendor webhooks."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.webhooks import WebhookRefused, webhook_deliver


class WebhookView(APIView):
    """Receives a vendor's signed event; answers at once and processes it in a task."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []
    accepted_status = status.HTTP_202_ACCEPTED

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample("Vendor event", request_only=True,
                           description="The raw body is signed in the vendor's signature header.",
                           value={"id": "evt_1029", "type": "member.updated", "member": {"id": "m42"}}),
            OpenApiExample("Accepted", value={"status": "accepted", "event": "evt_1029"},
                           response_only=True, status_codes=["202"]),
        ],
        responses={
            202: inline_serializer("WebhookAccepted", {"status": serializers.CharField(),
                                                       "event": serializers.CharField()}),
            200: OpenApiResponse(description="A repeat of an event already received; ignored."),
            400: OpenApiResponse(description="The event cannot be read (not JSON, nested too deep, not an "
                                             "event of this vendor) or is older than the freshness tolerance."),
            401: OpenApiResponse(description="The signature does not match."),
            404: OpenApiResponse(description="No such active integration (or it takes webhooks by address token)."),
            413: OpenApiResponse(description="The body is too large."),
            503: OpenApiResponse(description="A stored secret of the integration cannot be read now; "
                                             "deliver again later."),
        },
        summary="Receive a vendor webhook (HMAC-SHA256 hex signature of the raw body).", tags=["webhooks"],
    )
    def post(self, request, kind: str, integration_id: int, token: str | None = None):
        try:
            event, created = webhook_deliver(
                kind=kind, integration_id=integration_id, body=request._request.body, headers=request.headers,
                token=token,
            )
        except WebhookRefused as refused:
            return Response({"error": str(refused)}, status=refused.status)
        if not created:
            return Response({"status": "duplicate", "event": event.event_id}, status=status.HTTP_200_OK)
        return Response({"status": "accepted", "event": event.event_id}, status=self.accepted_status)


class TokenWebhookView(WebhookView):
    """Receives the event of a vendor that cannot sign (Perfect Gym): the address carries the
    integration's secret token; the event only wakes the matching sync, its body is not data.
    Accepted is 200: Perfect Gym delivers again until it gets a 200."""

    accepted_status = status.HTTP_200_OK

    @extend_schema(
        operation_id="webhook_by_address_token", request={"application/json": OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample("Perfect Gym event", request_only=True,
                           description="Unsigned; only its event name is read.",
                           value={"eventType": "UserModified", "memberId": 42}),
            OpenApiExample("Accepted", value={"status": "accepted", "event": "5f0c..."},
                           response_only=True, status_codes=["200"]),
        ],
        responses={
            200: inline_serializer("WebhookByTokenAccepted", {"status": serializers.CharField(),
                                                              "event": serializers.CharField()}),
            400: OpenApiResponse(description="The event cannot be read (not a JSON object)."),
            404: OpenApiResponse(description="No such active integration, or a wrong token."),
            413: OpenApiResponse(description="The body is too large."),
            503: OpenApiResponse(description="A stored secret of the integration cannot be read now; "
                                             "deliver again later."),
        },
        summary="Receive a webhook of a vendor that cannot sign (a secret token in the address).",
        tags=["webhooks"],
    )
    def post(self, request, kind: str, integration_id: int, token: str | None = None):
        return super().post(request, kind, integration_id, token)
