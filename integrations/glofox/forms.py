"""The configuration form on the Glofox integration's page: membership types from Glofox."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from integrations.connectors import connector_for
from integrations.crypto import SecretDecryptError
from integrations.errors import VendorError
from integrations.glofox.client import MembershipType
from integrations.glofox.models import BOOKING_MINUTES_AFTER, BOOKING_MINUTES_BEFORE, GlofoxConfiguration
from integrations.glofox.services import configuration_check, configuration_delete, configuration_save

TYPE_LABELS = {"time": "time-based", "time_classes": "time-based with classes", "num_classes": "credit pack",
               "payg": "pay as you go"}
SAVE_FIRST = ("Save the integration with its API key and token first; the membership types are then "
              "listed here from Glofox.")
ENTER_BRANCH = "Enter the Glofox Location ID and save; its membership types are then listed here from Glofox."


class ConfigurationForm(forms.ModelForm):
    """One configuration; `catalogue(branch)` gives (memberships or None, problem text)."""

    membership_types = forms.MultipleChoiceField(
        label="Membership types to sync", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Active holders of these Glofox memberships are put in the Kisi group.",
    )

    class Meta:
        model = GlofoxConfiguration
        fields = ["branch_id", "kisi_group", "kisi_place", "membership_types", "bookings_enabled",
                  "booking_minutes_before", "booking_minutes_after"]

    # An empty window field means the default (the seed's one hour before, none after).
    WINDOW_DEFAULTS = {"booking_minutes_before": BOOKING_MINUTES_BEFORE,
                       "booking_minutes_after": BOOKING_MINUTES_AFTER}

    def __init__(self, *args, catalogue=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.WINDOW_DEFAULTS:
            self.fields[name].required = False
        self.memberships: list[MembershipType] | None = None
        self.catalogue_problem = SAVE_FIRST
        branch = self.data.get(self.add_prefix("branch_id"), "") if self.is_bound else self.instance.branch_id
        if catalogue is not None:
            self.memberships, self.catalogue_problem = catalogue((branch or "").strip())
        field = self.fields["membership_types"]
        choices = [(m.id, f"{m.name} ({TYPE_LABELS.get(m.type, m.type or 'unknown type')})")
                   for m in self.memberships or []]
        offered = {value for value, _ in choices}
        # Types chosen before that Glofox no longer lists stay visible, so they can be unticked.
        choices += [(m, f"{m} (not in Glofox's catalogue now)") for m in self.instance.membership_types or []
                    if m not in offered]
        field.choices = choices
        if self.catalogue_problem:
            field.help_text = self.catalogue_problem

    def clean_booking_minutes_before(self):
        return self._window("booking_minutes_before")

    def clean_booking_minutes_after(self):
        return self._window("booking_minutes_after")

    def _window(self, name: str) -> int:
        value = self.cleaned_data.get(name)
        return self.WINDOW_DEFAULTS[name] if value is None else value

    def clean(self):
        cleaned = super().clean()
        configuration_check(kisi_group=cleaned.get("kisi_group"), kisi_place=cleaned.get("kisi_place"))
        # A new or changed Location ID must be one Glofox answers for (once it can be asked).
        if "branch_id" in self.changed_data and self.memberships is None \
                and self.catalogue_problem not in (SAVE_FIRST, ENTER_BRANCH):
            self.add_error("branch_id", self.catalogue_problem)
        return cleaned


class ConfigurationFormSet(BaseInlineFormSet):
    """Reads each branch's catalogue once per page, and saves through the services."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._catalogues: dict[str, tuple[list[MembershipType] | None, str]] = {}

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "catalogue": self.catalogue}

    def catalogue(self, branch: str) -> tuple[list[MembershipType] | None, str]:
        """The membership types of `branch` (of every configured branch when none is typed yet)."""
        if not self.instance.pk:
            return None, SAVE_FIRST
        if branch:
            return self._branch_catalogue(branch)
        branches = sorted(set(self.instance.glofox_configurations.values_list("branch_id", flat=True)))
        if not branches:
            return None, ENTER_BRANCH
        found, problems = {}, []
        for known in branches:
            memberships, problem = self._branch_catalogue(known)
            found.update({m.id: m for m in memberships or []})
            problems += [problem] if problem else []
        return list(found.values()), " ".join(problems)

    def _client(self):
        # A page must not hang on Glofox: one retry and short timeouts.
        return connector_for(self.instance).client(max_attempts=2, timeout=(3.0, 10.0))

    def _branch_catalogue(self, branch: str) -> tuple[list[MembershipType] | None, str]:
        if branch not in self._catalogues:
            try:
                self._catalogues[branch] = (self._client().memberships(branch=branch), "")
            except (VendorError, KeyError, SecretDecryptError) as error:
                reason = error if isinstance(error, VendorError) else "the API key or token is missing"
                self._catalogues[branch] = (None, f"Glofox could not be reached to list the membership types "
                                                  f"of location {branch} ({reason}). Try again later.")
        return self._catalogues[branch]

    def _save(self, form) -> GlofoxConfiguration:
        configuration = form.save(commit=False)
        configuration.integration = self.instance
        memberships = form.memberships
        if memberships is None:  # e.g. added with the integration: its credentials are saved now
            self._catalogues.pop(configuration.branch_id, None)
            memberships, _ = self._branch_catalogue(configuration.branch_id)
        if not configuration.time_zone or "branch_id" in form.changed_data:
            configuration.time_zone = self._branch_zone(configuration.branch_id, configuration.time_zone)
        try:
            return configuration_save(configuration=configuration, memberships=memberships)
        except ValidationError as error:  # checked by the form already; a race with an edit
            form.add_error(None, error)
            raise

    def _branch_zone(self, branch: str, current: str) -> str:
        try:
            return self._client().branch(branch=branch).time_zone or current
        except (VendorError, KeyError, SecretDecryptError):
            return current  # the location's time zone serves until Glofox answers

    def save_new(self, form, commit=True):
        return self._save(form) if commit else super().save_new(form, commit=False)

    def save_existing(self, form, obj, commit=True):
        return self._save(form) if commit else super().save_existing(form, obj, commit=False)

    def delete_existing(self, obj, commit=True):
        if commit:
            configuration_delete(configuration=obj)
