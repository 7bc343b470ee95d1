"""The Gladstone settings form, field by field as the seed lists them."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from integrations.connectors import SettingField
from integrations.gladstone import contract
from integrations.gladstone.mapping import comma_list
from integrations.gladstone.syncs import ATTENDANCE_MINUTES, FIRST_LOOKBACK_DAYS
from integrations.gladstone.tokens import key_bytes

GROUP_ID_MAX = 5  # Gladstone's SubscriptionTypeGroupID is at most 5 characters


class CommaListField(forms.CharField):
    """Comma-separated values in the form, a list in the settings."""

    def __init__(self, *, item_validators=(), **kwargs):
        self.item_validators = list(item_validators)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value):
        return comma_list(super().to_python(value))

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value):
        errors = []
        for item in value:
            for validator in self.item_validators:
                try:
                    validator(item)
                except ValidationError as error:
                    errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)


def base_url_validator(value: str) -> None:
    if not value.endswith("/"):
        raise ValidationError(
            'The Base URL must end with "/": the API areas (Login.asmx, Members.asmx, '
            "General.asmx) are appended to it, so without the slash the last part of the "
            "path would be replaced.",
            code="trailing_slash",
        )


def group_id_validator(value: str) -> None:
    if len(value) > GROUP_ID_MAX:
        raise ValidationError(
            f"{value!r} is longer than {GROUP_ID_MAX} characters (a SubscriptionTypeGroupID is at most "
            f"{GROUP_ID_MAX}, e.g. FISIK).",
            code="group_id_length",
        )


def email_validator(value: str) -> None:
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(f"{value!r} is not an email address.", code="invalid_email") from None


def token_key_validator(value: str) -> None:
    try:
        key_bytes(value)
    except ValueError as error:
        raise ValidationError(
            f'{error} Generate one with: python -c "from integrations.gladstone.tokens '
            'import member_token_key_generate as g; print(g())"',
            code="token_key",
        ) from None


SETTINGS_FIELDS = [
    SettingField(
        "base_url",
        forms.URLField(
            label="Base URL",
            assume_scheme="https",
            validators=[base_url_validator],
            help_text="The Gladstone API, e.g. https://gladstone.example.com/MemberWebService/ "
            "(the trailing slash is important).",
        ),
    ),
    SettingField(
        "app_name",
        forms.CharField(
            label="App Name",
            max_length=100,
            initial="Gatehouse",
            help_text="The application name sent with every call; a Gladstone engineer registers it.",
        ),
    ),
    SettingField("username", forms.CharField(label="Username", max_length=100)),
    SettingField("password", forms.CharField(label="Password", max_length=200), secret=True),
    SettingField(
        "active_statuses",
        CommaListField(
            label="Active subscription status list",
            help_text="Comma-separated StatusIDs that make a client active; any other status is inactive. "
            "Members first received inactive are not created.",
        ),
    ),
    SettingField(
        "subscription_type_groups",
        CommaListField(
            label="SubscriptionTypeGroupIDs filter list for valid SubTypeIDs",
            required=False,
            item_validators=[group_id_validator],
            help_text="Comma-separated, at most 5 characters each (e.g. FISIK). Used once a day to check "
            "that every valid SubTypeID a client holds has a package, and for the catalogue.",
        ),
    ),
    SettingField(
        "minimum_age",
        forms.IntegerField(
            label="Minimum client age",
            required=False,
            min_value=0,
            max_value=120,
            help_text="Members younger than this are not created; an existing client stays. "
            "Leave empty to ignore age.",
        ),
    ),
    SettingField(
        "notification_emails",
        CommaListField(
            label="List of emails for notifications",
            required=False,
            item_validators=[email_validator],
            help_text="Comma-separated; they get the daily audit's email when something is wrong, and "
            "Gatehouse's alerts when this integration keeps failing or lags (and when it recovers). "
            "A service account is recommended.",
        ),
    ),
    SettingField(
        "validation_type",
        forms.ChoiceField(
            label="Validation type",
            choices=[(v, v) for v in contract.VALIDATION_TYPES],
            initial="Password",
            help_text="How members log in to Gladstone. SecurePassword corresponds to Gladstone's "
            "UseStrongPassword option.",
        ),
    ),
    SettingField(
        "delete_on_is_deleted",
        forms.BooleanField(
            label="Delete on IsDeleted = True",
            required=False,
            help_text="Delete the client (recoverably) when the member is deleted in Gladstone; "
            "otherwise the client is made inactive.",
        ),
    ),
    SettingField(
        "system_name",
        forms.CharField(
            label="Change queue system name",
            max_length=50,
            initial="Gatehouse",
            help_text="The name Gladstone keeps this subscriber's member change queue under.",
        ),
    ),
    SettingField(
        "sync_minutes",
        forms.IntegerField(
            label="Sync every (minutes)",
            min_value=1,
            initial=5,
            help_text="How often members, subscriptions and door accesses are read.",
        ),
    ),
    SettingField(
        "first_lookback_days",
        forms.IntegerField(
            label="First read of door accesses goes back (days)",
            required=False,
            min_value=0,
            max_value=90,
            initial=FIRST_LOOKBACK_DAYS,
            help_text="When a site's door accesses are read for the first time (just connected, or a "
            f"door just added), the accesses of this many days are read. Empty: {FIRST_LOOKBACK_DAYS}.",
        ),
    ),
    SettingField(  # the same setting as Perfect Gym's: name, meaning and default
        "attendance_minutes",
        forms.IntegerField(
            label="Attended when entering up to (minutes) before a class",
            required=False,
            min_value=0,
            initial=ATTENDANCE_MINUTES,
            help_text="A door access marks the client's booking attended from this long before the class "
            f"starts until it ends. Empty: {ATTENDANCE_MINUTES}.",
        ),
    ),
    SettingField(
        "member_token_key",
        forms.CharField(
            label="Member token key",
            required=False,
            validators=[token_key_validator],
            help_text="The AES-256 key (32 bytes, base64) shared with a partner app that logs members in "
            "with an encrypted member ID. Leave empty to turn that login off.",
        ),
        secret=True,
    ),
]
