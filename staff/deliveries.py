"""The Deliveries page: everything Gatehouse sent or tries to send to a vendor, with what
each vendor answered, and a Retry button for the failed ones."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from integrations.models import Delivery, Integration
from integrations.outbox import deliveries_retry
from integrations.selectors import deliveries_for_staff
from staff.filters import StaffFilters, filters_render
from staff.permissions import DELIVERIES, DELIVERY_RETRY, staff_permission_required

PAGE = 50
RETRYABLE = {Delivery.State.FAILED, Delivery.State.GAVE_UP}


class DeliveryFilters(forms.Form):
    integration = forms.ModelChoiceField(Integration.objects.all(), required=False,
                                         empty_label="Any integration")
    state = forms.ChoiceField(choices=[("", "Any state"), *Delivery.State.choices], required=False)
    member = forms.CharField(required=False, max_length=100,
                             widget=forms.TextInput(attrs={"placeholder": "Member name or email"}))


@staff_permission_required(DELIVERIES)
def delivery_list(request):
    """Newest first; ?client=<id> and ?record=<id> narrow to one member or one record."""
    read = StaffFilters(request.GET)
    filters, chosen = read.form(DeliveryFilters)
    integration = chosen.get("integration")
    found = deliveries_for_staff(
        integration_id=integration.pk if integration else None, state=chosen.get("state") or "",
        member=chosen.get("member") or "", client_id=read.record_id("client"), record_id=read.record_id("record"))
    page = Paginator(found, PAGE).get_page(read.page_number())
    query = request.GET.copy()
    query.pop("page", None)
    return filters_render(request, "staff/deliveries.html", {
        "filters": filters, "page": page, "query": query.urlencode(), "retryable": RETRYABLE,
        "can_retry": request.user.has_perm(DELIVERY_RETRY),
    }, read)


@staff_permission_required(DELIVERY_RETRY)
@require_POST
def delivery_retry(request, delivery_id: int):
    """Send a failed or given-up delivery again now (the admin's "Retry now")."""
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    if deliveries_retry(deliveries=Delivery.objects.filter(pk=delivery.pk)):
        messages.success(request, "The delivery will be sent again now.")
    else:
        messages.error(request, "Only a failed delivery can be retried.")
    return redirect("staff:deliveries")
