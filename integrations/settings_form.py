"""The settings form of an integration, built from its connector's declared fields."""

import copy

from django import forms

from integrations.connectors import Connector, connector_class
from integrations.models import Integration
from integrations.services import integration_endpoints_check

SECRET_KEEP_HELP = "Stored. Leave empty to keep the stored value; type a new one to replace it."  # noqa: S105
SECRET_UNREADABLE_HELP = "Stored, but this secret cannot be read with the current keys; enter it again."  # noqa: S105


def settings_form_class(kind: str) -> type["IntegrationSettingsForm"]:
    """A form with name, active, and exactly the fields the `kind` connector declares."""
    connector: type[Connector] = connector_class(kind)
    fields: dict[str, forms.Field] = {}
    for spec in connector.form_fields():
        field = copy.deepcopy(spec.form_field)
        if spec.secret:
            field.widget = forms.PasswordInput(render_value=False)
        fields[spec.name] = field
    return type(f"{connector.__name__}SettingsForm", (IntegrationSettingsForm,),
                {**fields, "connector": connector})


class IntegrationSettingsForm(forms.ModelForm):
    """Splits cleaned values into settings and secrets; a blank secret keeps the stored one.

    Stored secrets are never put back into the form: the field shows empty with a note.
    """

    connector: type[Connector]

    class Meta:
        model = Integration
        fields = ["name", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        integration = self.instance
        # Never raises: a secret the current keys cannot read is shown as such, to enter again.
        stored = integration.stored_secrets()
        for spec in self.connector.form_fields():
            if spec.secret:
                if stored.is_unreadable(spec.name):
                    self.fields[spec.name].help_text = SECRET_UNREADABLE_HELP
                elif stored.values.get(spec.name):
                    self.fields[spec.name].required = False
                    self.fields[spec.name].help_text = SECRET_KEEP_HELP
            elif integration.pk and spec.name in integration.settings:
                self.initial.setdefault(spec.name, integration.settings[spec.name])

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            self.instance.kind = self.connector.kind
            self.connector(self.instance).clean_settings(cleaned)
            # integration_save refuses the same; here each problem shows on its field.
            for name, problems in integration_endpoints_check(
                integration=self.instance, kind=self.connector.kind,
                settings=self.settings_values(), secrets=self.secret_values(),
            ).items():
                self.add_error(name, problems)
        return cleaned

    def settings_values(self) -> dict:
        return {
            spec.name: spec.to_json(self.cleaned_data.get(spec.name))
            for spec in self.connector.form_fields() if not spec.secret
        }

    def secret_values(self) -> dict[str, str]:
        return {
            spec.name: self.cleaned_data.get(spec.name) or ""
            for spec in self.connector.form_fields() if spec.secret
        }
