"""The live access log page: app unlock decisions and door accesses every system reported.

Newest first and filterable; with JavaScript the page asks for rows newer than the ones
it shows every few seconds (staff/static/staff/access_log.js); without, it is a plain page.
"""

from django import forms

from accessctl.access_log import OUTCOMES, access_log_entries
from accessctl.models import Door
from clients.models import Location
from integrations.models import Integration
from staff.filters import StaffFilters, filters_render
from staff.permissions import ACCESS_LOG, staff_permission_required

PAGE = 50


class AccessLogFilters(forms.Form):
    door = forms.ModelChoiceField(Door.objects.select_related("location"), required=False, empty_label="Any door")
    location = forms.ModelChoiceField(Location.objects.all(), required=False, empty_label="Any location")
    outcome = forms.ChoiceField(choices=[("", "Any decision"), *OUTCOMES], required=False)
    member = forms.CharField(required=False, max_length=100,
                             widget=forms.TextInput(attrs={"placeholder": "Name or email"}))


@staff_permission_required(ACCESS_LOG)
def access_log(request):
    """The page, or with ?partial=1&after=<time> only the rows newer than that."""
    read = StaffFilters(request.GET)
    filters, chosen = read.form(AccessLogFilters)
    entries = access_log_entries(
        door=chosen.get("door"), location=chosen.get("location"), outcome=chosen.get("outcome") or "",
        member=chosen.get("member") or "", after=read.instant("after"),
        before=read.instant("before"), limit=PAGE,
        source_names={i.source: i.name for i in Integration.objects.all()},
    )
    query = request.GET.copy()
    for key in ("after", "before", "partial"):
        query.pop(key, None)
    template = "staff/_access_log_rows.html" if request.GET.get("partial") else "staff/access_log.html"
    return filters_render(request, template, {
        "filters": filters, "entries": entries, "query": query.urlencode(),
        "older": entries[-1].at.isoformat() if len(entries) == PAGE else "",
    }, read)
