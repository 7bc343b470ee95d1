"""Endpoints for load balancers, orchestrators and Prometheus: /healthz, /readyz, /metrics.

/healthz and /readyz are public (a probe carries no credentials) and say no more than
each check's name and state; /metrics answers only a Bearer METRICS_TOKEN or an address
in METRICS_ALLOWED_IPS, and anyone else gets a bare 403.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from integrations.health import readiness
from integrations.metrics import metrics_exposition


@never_cache
@require_safe
def healthz(request):
    """The process answers (no database, no broker): restart it when this fails."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Database, broker, worker heartbeat and schedules: send traffic only while this is 200."""
    checks = readiness()
    ok = all(check.ok for check in checks)
    return JsonResponse({"status": "ok" if ok else "fail", "checks": {c.name: c.state for c in checks}},
                        status=200 if ok else 503)


def metrics_allowed(request) -> bool:
    """A Bearer METRICS_TOKEN, or REMOTE_ADDR inside METRICS_ALLOWED_IPS (addresses or networks)."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(allowed.strip(), strict=False)
               for allowed in settings.METRICS_ALLOWED_IPS if allowed.strip())


@never_cache
@require_safe
def metrics(request):
    """Prometheus' text format, read from the database at scrape time (integrations.metrics)."""
    if not metrics_allowed(request):
        return HttpResponseForbidden("no", content_type="text/plain")
    body, content_type = metrics_exposition()
    return HttpResponse(body, content_type=content_type)
