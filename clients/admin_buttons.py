"""Buttons on a record's admin page (django-object-actions) that press the page's list actions.

A button is made from a list action with `button_of(action)`: it runs that very action on
its one record, so there is no second copy of a rule, and it needs the same permissions
(`allowed_permissions`, checked by the ModelAdmin's `has_<name>_permission` as Django
checks list actions). A button a user may not press is not shown, and pressing it anyway
is refused before the action runs. Buttons that change something are POST forms with CSRF.
"""

from django.core.exceptions import PermissionDenied
from django_object_actions import BaseDjangoObjectActions


def button_of(action, *, label: str = "", methods=("POST",), button_type: str = "form"):
    """A change-page button running the list action `action` on the page's record."""

    def pressed(self, request, obj):
        if not self.button_allowed(request, pressed, obj):
            raise PermissionDenied
        return action(self, request, self.get_queryset(request).filter(pk=obj.pk))

    pressed.allowed_permissions = action.allowed_permissions
    pressed.label = label or action.short_description
    pressed.short_description = getattr(action, "short_description", pressed.label)
    pressed.methods = methods
    pressed.button_type = button_type
    pressed.list_action = action.__name__
    return pressed


class ButtonsAdmin(BaseDjangoObjectActions):
    """ModelAdmin mixin: `change_actions` lists buttons made by `button_of` (or plain
    methods declaring `allowed_permissions`); each is shown and runs only for those allowed.

    Only the change form's template is the library's: list pages keep theirs (import-export's).
    """

    change_form_template = "django_object_actions/change_form.html"

    class Media:
        css = {"all": ["django_object_actions/css/django-object-actions.css"]}

    def button_allowed(self, request, func, obj=None) -> bool:
        """Whether `request.user` holds every permission the button declares, asked as Django
        asks it for a list action (`has_<name>_permission(request)`), so both agree."""
        permissions = getattr(func, "allowed_permissions", None)
        if not permissions:  # a button without declared permissions is nobody's
            return False
        return all(getattr(self, f"has_{permission}_permission")(request) for permission in permissions)

    def button_shown(self, request, name: str, obj) -> bool:
        """Override to hide a button a record does not offer (e.g. no catalogue)."""
        return True

    def get_change_actions(self, request, object_id, form_url):
        obj = self.get_object(request, object_id)
        if obj is None:
            return []
        return [name for name in super().get_change_actions(request, object_id, form_url)
                if self.button_allowed(request, getattr(self, name), obj) and self.button_shown(request, name, obj)]
