"""The staff pages' GET filters, read in one place.

A value that cannot be read (a NUL character, an id that is not a number a database
holds, an impossible date, text too long) is left out, and the page says so and answers
400 instead of failing with a server error.
"""

from datetime import UTC, datetime

from django import forms
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.dateparse import parse_datetime

MAX_ID = 2**63 - 1  # the largest primary key a database column holds
MAX_TEXT = 200


class Unreadable(ValueError):
    """A filter value the page cannot use; the message says why, for the page."""


def _text(value: str, *, max_length: int = MAX_TEXT) -> str:
    if "\x00" in value:
        raise Unreadable("it contains a NUL character")
    if len(value) > max_length:
        raise Unreadable(f"it is longer than {max_length} characters")
    return value.strip()


def _whole_number(value: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    text = _text(value, max_length=30)
    if not text.isascii() or not text.isdigit() or not minimum <= int(text) <= maximum:
        raise Unreadable(f"{text[:30]!r} is not a whole number from {minimum} to {maximum}")
    return int(text)


def _instant(value: str) -> datetime:
    text = _text(value, max_length=40)
    try:
        parsed = parse_datetime(text)
        if parsed is None or parsed.tzinfo is None:
            raise ValueError
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-13-45 is well formed but no date; year 1 at +05:00 leaves the range
        raise Unreadable(f"{text!r} is not a date and time with its offset, such as "
                         "2026-03-01T09:30:00+00:00") from None


class StaffFilters:
    """The GET filters of one staff request: each read once; what failed is in `problems`."""

    def __init__(self, query: QueryDict):
        self.query = query
        self.problems: list[str] = []

    def _read(self, name: str, parse, default):
        value = self.query.get(name, "")
        if value == "":
            return default
        try:
            return parse(value)
        except Unreadable as error:
            self.problems.append(f"{name}: {error}")
            return default

    def text(self, name: str, *, max_length: int = MAX_TEXT) -> str:
        """Free text (a search box), stripped; "" when absent or unreadable."""
        return self._read(name, lambda value: _text(value, max_length=max_length), "")

    def record_id(self, name: str) -> int | None:
        """A record's primary key; None when absent or unreadable."""
        return self._read(name, _whole_number, None)

    def page_number(self, name: str = "page") -> int:
        """A page number from 1; 1 when absent or unreadable (a page past the end shows the last)."""
        return self._read(name, _whole_number, 1)

    def instant(self, name: str) -> datetime | None:
        """An ISO 8601 date and time with an offset, in UTC; None when absent or unreadable."""
        return self._read(name, _instant, None)

    def form(self, form_class: type[forms.Form]) -> tuple[forms.Form, dict]:
        """`form_class` bound to the filters, and the cleaned values of the fields that were valid.

        Model choices are checked to be ids first, and every value for NUL characters, so
        that no unreadable value reaches the database.
        """
        data = self.query.copy()
        for name, field in form_class.base_fields.items():
            if data.get(name, "") == "":
                continue
            is_id = isinstance(field, forms.ModelChoiceField) and not field.to_field_name
            if self._read(name, _whole_number if is_id else _text, None) is None:
                data.pop(name)
        form = form_class(data)
        form.is_valid()
        for name, errors in form.errors.items():
            self.problems.append(f"{name}: {' '.join(errors)}")
        return form, form.cleaned_data


def filters_render(request, template: str, context: dict, filters: StaffFilters) -> HttpResponse:
    """Render a staff page; when a filter could not be read, the page says which and answers 400."""
    problems = [f"That filter could not be read: {problem}" for problem in filters.problems]
    return render(request, template, {**context, "filter_problems": problems}, status=400 if problems else 200)
