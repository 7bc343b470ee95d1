"""django-q2's task pages, with "Resubmit" declaring the permission it needs.

django-q2 offers "Resubmit selected tasks to queue" to anyone who may view a task, and a
resubmitted task runs again whatever it does (a sync, a door push). Here it needs
"Can change" on the task (Success or Failure), which no role holds: superusers only.
"""

from django.contrib import admin
from django_q import admin as q_admin
from django_q.models import Failure, Success


@admin.action(description="Resubmit selected tasks to queue", permissions=["change"])
def resubmit_task(modeladmin, request, queryset):
    q_admin.resubmit_task(modeladmin, request, queryset)


class SuccessAdmin(q_admin.TaskAdmin):
    actions = [resubmit_task]


class FailureAdmin(q_admin.FailAdmin):  # a FailAdmin, so a resubmitted failure is deleted
    actions = [resubmit_task]


for model, model_admin in ((Success, SuccessAdmin), (Failure, FailureAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
