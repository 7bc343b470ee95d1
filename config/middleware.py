"""Project-wide request guards."""

import logging

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.html import format_html

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


class AdminQueryGuardMiddleware:
    """Answer 400, not 500, to admin URLs whose query the database cannot take.

    The admin's list filters pass query values straight to the ORM: a NUL character
    (PostgreSQL refuses it) or a number beyond what a column or a date holds (an
    OverflowError from SQLite or datetime) would otherwise fail as a server error.
    The staff pages read their filters through staff.filters instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and "\x00" in "".join(
                f"{key}{value}" for key, values in request.GET.lists() for value in values):
            return self._refused(request, "it contains a NUL character")
        return self.get_response(request)

    def process_exception(self, request, exception):
        if (request.path.startswith("/admin/") and request.method == "GET" and request.GET
                and isinstance(exception, OverflowError)):
            return self._refused(request, "a number or date in it is out of range")
        return None

    @staticmethod
    def _refused(request, why: str) -> HttpResponseBadRequest:
        logger.warning("path=%r refused: the query could not be read (%s)", request.path, why)
        return HttpResponseBadRequest(format_html(
            "<!doctype html><title>Bad request</title><h1>That filter could not be read: {}.</h1>"
            '<p><a href="{}">Back to the list without it</a></p>', why, request.path))
