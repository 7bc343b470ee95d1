"""The portal's forms: the login, and a door's Open button."""

from django import forms

from accessctl.models import UnlockAttempt

KEY_LENGTH = UnlockAttempt._meta.get_field("idempotency_key").max_length  # what the unlock service stores


class LoginForm(forms.Form):
    identifier = forms.CharField(
        label="E-mail or member number", max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}))
    password = forms.CharField(
        label="Password", max_length=256, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OpenForm(forms.Form):
    """What an Open button sends: its idempotency key and, for a geofenced door, the position."""

    key = forms.CharField(min_length=1, max_length=KEY_LENGTH)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)
    confirmed = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise forms.ValidationError("Send both latitude and longitude, or neither.")
        return data
