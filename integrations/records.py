"""Vendor records: how a client reads a vendor's body into a small frozen dataclass.

The rule, for every vendor:

- Read leniently. A field holds what was sent (a text id stays text, a name that is not
  text stays what it is); a client never refuses a body. Judging a record is mapping.py's
  job, which raises BadRecord with the reason a person can act on.
- Keep what was sent. `payload` is the body (for the sync issue of a record mapping
  refuses); it never counts in comparisons and stays out of repr.
- A body that is not an object reads as an empty object: an empty record keeping it.

A record declares each field with `api()`:

    @dataclass(frozen=True)
    class Member(VendorRecord):
        id: str = api("id", read=lambda v: str(v or ""))
        first_name: Any = api("firstName")  # as sent
        active: bool = api("isActive", read=bool, default=True)
        club_id: Any = api("homeClub.id")  # a dotted name reads a nested object
        tags: tuple = api("tags", read=nested_list(Tag))  # a list of nested records
        tags_readable: bool = api("tags", read=objects)  # a flag from the same key
        label: str = api(read=lambda body: body.get("name") or body.get("code"))  # the whole body

`Member.from_api(body)` then reads every such field. A record built directly (in a test,
or for what Gatehouse sends) gets, for a field not given, what an absent field reads as.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

WHOLE = ""  # the name of `api()` without one: `read` gets the whole body


def api(name: str = WHOLE, *, read: Callable[[Any], Any] | None = None, default: Any = None):
    """A record field read from the body's `name` (a dotted name reads a nested object),
    through `read` when given; an absent field is `default` (before `read`). Without a
    name, `read` gets the whole body (an object), for a value several keys make.

    The field's own default is what an absent field reads as, so `read` must accept it."""
    spec = _Field(name, read, default)
    return field(default=spec.value({}), metadata={"api": spec})


@dataclass(frozen=True)
class _Field:
    name: str
    read: Callable[[Any], Any] | None
    default: Any

    def value(self, body: dict) -> Any:
        value = body if self.name == WHOLE else _dig(body, self.name, self.default)
        return self.read(value) if self.read else value

    @property
    def plain(self) -> bool:
        """Read as the body's own key, as sent: what most fields are (from_api's quick path)."""
        return self.read is None and self.name != WHOLE and "." not in self.name


def _dig(body: dict, name: str, default: Any) -> Any:
    for part in name.split("."):
        if not isinstance(body, dict) or part not in body:
            return default
        body = body[part]
    return body


@dataclass(frozen=True)
class VendorRecord:
    """A vendor's record as sent; subclasses are frozen dataclasses declaring `api()` fields."""

    payload: Any = field(default=None, compare=False, repr=False, kw_only=True)

    @classmethod
    def from_api(cls, body: Any):
        """The record of a body: every `api()` field read; a body that is not an object
        gives an empty record keeping it."""
        readable = body if isinstance(body, dict) else {}
        plain, others = cls.__dict__.get("_api_fields") or cls._api_fields_read()
        values = {name: readable.get(key, default) for name, key, default in plain}
        for name, spec in others:
            values[name] = spec.value(readable)
        return cls(**values, payload=cls.kept(body))

    @classmethod
    def _api_fields_read(cls) -> tuple[list, list]:
        """The class's `api()` fields, once: (name, key, default) of the plain ones, (name,
        spec) of the rest."""
        specs = [(f.name, f.metadata["api"]) for f in fields(cls) if "api" in f.metadata]
        cls._api_fields = ([(name, spec.name, spec.default) for name, spec in specs if spec.plain],
                           [(name, spec) for name, spec in specs if not spec.plain])
        return cls._api_fields

    @classmethod
    def kept(cls, body: Any) -> Any:
        """What `payload` keeps of the body: the body itself (a vendor may wrap one its
        sync issues cannot store as it is)."""
        return body

    @property
    def key(self) -> str:
        """The record's `id` as text, for a sync issue ("" without one)."""
        value = getattr(self, "id", None)
        return "" if value is None else str(value)


def objects(value: Any) -> bool:
    """Whether `value` is a list of objects (what a list of nested records must be)."""
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def nested(record: type[VendorRecord]) -> Callable[[Any], Any]:
    """A reader of one nested object as a `record`; None when the value is not an object."""
    return lambda value: record.from_api(value) if isinstance(value, dict) else None


def nested_list(record: type[VendorRecord]) -> Callable[[Any], tuple]:
    """A reader of a list of objects as a tuple of `record`s; () when it is not one (pair it
    with an `objects` flag when mapping must tell "none" from "unreadable")."""
    return lambda value: tuple(record.from_api(item) for item in value) if objects(value) else ()
