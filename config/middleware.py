"""Project-wide request guards."""

import logging

from django.conf import settings
from django.http import JsonResponse

logger = logging.getLogger("gatehouse.api")


class ApiBodyLimitMiddleware:
    """Refuse an oversized JSON API body with a clear 413 before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.API_MAX_BODY_BYTES:
                logger.warning("path=%s refused: body of %d bytes over the %d limit", request.path, length,
                               settings.API_MAX_BODY_BYTES)
                return JsonResponse({"error": f"The request body is too large: at most "
                                              f"{settings.API_MAX_BODY_BYTES // 1024} KB."}, status=413)
        return self.get_response(request)
