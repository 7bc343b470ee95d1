"""An integration's settings given as text (`manage.py integration add KIND --set key=value`).

The command line fills the very form Settings > Integrations shows (settings_form_class):
every field left out gets the value the admin's add page shows before anyone types (a
ticked box stays ticked), so both make the same integration from the same input.
Records are named as people name them (a location by alt id or name, an identity type
by name), never by database id.
"""

import getpass
import os
import sys
from collections.abc import Callable

from django import forms
from django.db.models import Q
from django.utils.datastructures import MultiValueDict
from django.utils.html import strip_tags

from integrations.connectors import connector_class
from integrations.settings_form import IntegrationSettingsForm, settings_form_class

TRUE = {"true", "yes", "on", "1"}
FALSE = {"false", "no", "off", "0"}
STDIN = "-"  # key=- : read the value from standard input (a prompt without echo on a terminal)
ENV_PREFIX = "@"  # key=@NAME : the value of the environment variable NAME
NAMED_BY = ("alt_id", "name", "display_name")  # how records are named on the command line


class SettingsTextError(ValueError):
    """A setting given on the command line cannot be used; the message says how to fix it."""


def settings_keys(kind: str) -> list[str]:
    """The keys `--set` takes for `kind`, in the admin form's order."""
    return [spec.name for spec in connector_class(kind).form_fields()]


def _reader() -> Callable[[str], str]:
    def read(label: str) -> str:
        if sys.stdin.isatty():
            return getpass.getpass(f"{label}: ")
        return sys.stdin.readline().rstrip("\r\n")
    return read


def _record_named(field: forms.ModelChoiceField, key: str, text: str):
    """The one record of `field`'s choices named `text` (alt id or name, any case)."""
    model = field.queryset.model
    names = [n for n in NAMED_BY if n in {f.name for f in model._meta.get_fields()}]
    match = Q()
    for name in names:
        match |= Q(**{f"{name}__iexact": text})
    found = list(field.queryset.filter(match)[:2])
    if len(found) == 1:
        return found[0]
    label = model._meta.verbose_name
    if found:
        raise SettingsTextError(f"{key}: more than one {label} is named {text!r}; use its alt ID.")
    known = ", ".join(str(getattr(r, names[0])) for r in field.queryset[:20]) or "none yet"
    raise SettingsTextError(f"{key}: no {label} is named {text!r} (by {_naming(field)}); known: {known}.")


def _value(field: forms.Field, key: str, text: str, *, read: Callable[[str], str]):
    """What a browser would submit for `field` when a person means `text`."""
    if text == STDIN:
        text = read(str(field.label or key))
    elif text.startswith(ENV_PREFIX):
        variable = text[len(ENV_PREFIX):]
        if variable not in os.environ:
            raise SettingsTextError(f"{key}: the environment variable {variable} is not set.")
        text = os.environ[variable]
    if isinstance(field, forms.BooleanField):
        if text.strip().lower() not in TRUE | FALSE:
            raise SettingsTextError(f"{key}: give true or false, not {text!r}.")
        return [text.strip().lower() in TRUE]
    items = [item.strip() for item in text.split(",") if item.strip()] \
        if isinstance(field.widget, forms.SelectMultiple) else [text]
    if isinstance(field, forms.ModelChoiceField):
        return [_record_named(field, key, item).pk for item in items]
    return items


def settings_form_from_text(
    *, kind: str, name: str, pairs: list[str], is_active: bool = True,
    read: Callable[[str], str] | None = None,
) -> IntegrationSettingsForm:
    """The bound settings form of a new `kind` integration from `key=value` pairs.

    Raises SettingsTextError for a pair without "=", an unknown key (naming the valid
    ones), a record no one is named after, an unset environment variable; the form's own
    validation is left to the caller (form.is_valid(), as the admin does). A value `-` is
    read from standard input (a prompt without echo on a terminal) and `@NAME` is the
    environment variable NAME: secrets need never appear in the command line.
    """
    form_class = settings_form_class(kind)
    blank = form_class()
    keys = settings_keys(kind)
    data = MultiValueDict()
    for key in keys:  # the admin's defaults: what its add page shows before anyone types
        shown = blank[key].value()
        if shown is not None and shown != "":
            data.setlist(key, list(shown) if isinstance(shown, (list, tuple)) else [shown])
    data.setlist("name", [name])
    data.setlist("is_active", [is_active])
    read = read or _reader()
    for pair in pairs:
        key, equals, text = pair.partition("=")
        key = key.strip()
        if not equals:
            raise SettingsTextError(f"--set {pair!r}: write it as key=value.")
        if key not in keys:
            raise SettingsTextError(f"{key!r} is not a {connector_class(kind).label} setting; "
                                    f"the settings are: {', '.join(keys)}.")
        data.setlist(key, _value(blank.fields[key], key, text, read=read))
    return form_class(data=data)


def form_errors_line(form: forms.BaseForm) -> str:
    """A bound form's errors on one line: `key: problem; key: problem`."""
    return "; ".join(f"{key}: {' '.join(' '.join(str(m).split()) for m in problems)}"
                     if key != "__all__" else " ".join(problems)
                     for key, problems in form.errors.items())


def settings_help(kind: str) -> str:
    """Every setting of `kind`: key, meaning, default, and how to give it (for --help)."""
    connector = connector_class(kind)
    blank = settings_form_class(kind)()
    lines = [f"{connector.label} settings (--set KEY=VALUE; left out, a setting keeps the default "
             "the admin's add page shows):"]
    for spec in connector.form_fields():
        field = blank.fields[spec.name]
        shown = blank[spec.name].value()
        notes = ["required" if field.required and shown in (None, "") else ""]
        if shown not in (None, "") and not spec.secret:
            notes.append(f"default {_shown(field, shown)}")
        if spec.secret:
            notes.append("secret: give - to type it unseen (or pipe it in), or @ENVVAR")
        if isinstance(field, forms.BooleanField):
            notes.append("true or false")
        elif isinstance(field, forms.ModelChoiceField):
            notes.append(f"{field.queryset.model._meta.verbose_name} by {_naming(field)}")
        elif isinstance(field, forms.ChoiceField):
            notes.append("one of " + ", ".join(str(value) for value, _ in field.choices if value != ""))
        meaning = " ".join(strip_tags(f"{field.label}. {field.help_text}").split())
        notes = "; ".join(n for n in notes if n)
        lines.append(f"  {spec.name:<24} {meaning.rstrip('. ')}." + (f" [{notes}]" if notes else ""))
    return "\n".join(lines)


def _naming(field: forms.ModelChoiceField) -> str:
    """How the records of `field` are named: "alt ID or name"."""
    model_fields = {f.name: f for f in field.queryset.model._meta.get_fields()}
    return " or ".join(str(model_fields[n].verbose_name) for n in NAMED_BY if n in model_fields)


def _shown(field: forms.Field, value) -> str:
    if isinstance(field, forms.BooleanField):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)
