"""Third-party admin pages whose actions declare no permission, registered again with one.

- django-q2 offers "Resubmit selected tasks to queue" to anyone who may view a task, and a
  resubmitted task runs again whatever it does (a sync, a door push). Here it needs
  "Can change" on the task (Success or Failure), which no role holds: superusers only.
- django-axes offers "Clean up expired attempts" to anyone who may view the lockouts (and
  its own answers 500 outside a login request); here it needs "Can delete access attempt"
  (the Manager role, who unlocks logins) and does what the daily housekeeping does.
This app is listed after both in INSTALLED_APPS, so their own registrations come first.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.utils import timezone
from django_q import admin as q_admin
from django_q.models import Failure, Success

from integrations.housekeeping import admin_login_attempts_purge


@admin.action(description="Resubmit selected tasks to queue", permissions=["change"])
def resubmit_task(modeladmin, request, queryset):
    q_admin.resubmit_task(modeladmin, request, queryset)


class SuccessAdmin(q_admin.TaskAdmin):
    actions = [resubmit_task]


class FailureAdmin(q_admin.FailAdmin):  # a FailAdmin, so a resubmitted failure is deleted
    actions = [resubmit_task]


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        count = admin_login_attempts_purge(now=timezone.now())
        self.message_user(request, f"Cleaned up {count} expired access attempt(s).", messages.SUCCESS)


for model, model_admin in ((Success, SuccessAdmin), (Failure, FailureAdmin), (AccessAttempt, AccessAttemptAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
