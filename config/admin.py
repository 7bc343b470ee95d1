"""Third-party admin pages whose actions declare no permission, registered again with one.

- django-q2 offers "Resubmit selected tasks to queue" to anyone who may view a task, and a
  resubmitted task runs again whatever it does (a sync, a door push). Here it needs
  "Can change" on the task (Success or Failure), which no role holds: superusers only.
- django-axes offers "Clean up expired attempts" to anyone who may view the lockouts, and
  it answers 500 outside a login request. It is dropped: axes forgets expired attempts at
  every login and the daily housekeeping deletes them. A Manager unlocks someone by
  deleting their attempt ("Can delete access attempt").
This app is listed after both in INSTALLED_APPS, so their own registrations come first.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt
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


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    actions = ["delete_selected"]  # Django's own, which asks "Can delete access attempt"


for model, model_admin in ((Success, SuccessAdmin), (Failure, FailureAdmin), (AccessAttempt, AccessAttemptAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
