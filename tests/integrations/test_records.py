"""integrations/records.py: one way every vendor client reads a body into a typed record."""

from dataclasses import FrozenInstanceError, dataclass
from typing import Any

import pytest

from integrations.records import VendorRecord, api, nested, nested_list, objects


@dataclass(frozen=True)
class Tag(VendorRecord):
    id: str = api("id", read=lambda v: str(v or ""))
    name: Any = api("name")


@dataclass(frozen=True)
class Member(VendorRecord):
    id: Any = api("id")
    first_name: Any = api("firstName")
    active: bool = api("isActive", read=lambda v: v is not False, default=True)
    club_id: Any = api("homeClub.id")
    tags: tuple = api("tags", read=nested_list(Tag))
    tags_readable: bool = api("tags", read=lambda v: v is None or objects(v))
    best_tag: Tag | None = api("bestTag", read=nested(Tag))
    label: str = api(read=lambda body: str(body.get("nick") or body.get("firstName") or ""))


def test_fields_hold_what_was_sent_and_a_dotted_name_reads_a_nested_object():
    member = Member.from_api({"id": "12", "firstName": 7, "isActive": False, "homeClub": {"id": 3}})
    assert (member.id, member.first_name, member.active, member.club_id) == ("12", 7, False, 3)
    assert Member.from_api({"homeClub": "Main"}).club_id is None  # not an object: nothing to read in it


def test_an_absent_field_is_its_default_through_read():
    member = Member.from_api({"id": 1})
    assert (member.first_name, member.active, member.tags, member.tags_readable, member.best_tag) == (
        None, True, (), True, None)
    assert Member.from_api({"id": 1, "isActive": None}).active is True  # only `false` is inactive


def test_a_field_without_a_name_reads_the_whole_body():
    assert Member.from_api({"firstName": "Ana"}).label == "Ana"
    assert Member.from_api({"firstName": "Ana", "nick": "Annie"}).label == "Annie"


def test_nested_records_and_a_flag_from_the_same_key():
    member = Member.from_api({"tags": [{"id": 5, "name": "VIP"}, {}], "bestTag": {"id": 5, "name": "VIP"}})
    assert member.tags == (Tag("5", "VIP"), Tag("", None)) and member.tags_readable
    assert member.best_tag == Tag("5", "VIP") and member.best_tag.payload == {"id": 5, "name": "VIP"}
    unreadable = Member.from_api({"tags": ["VIP"], "bestTag": "VIP"})
    assert (unreadable.tags, unreadable.tags_readable, unreadable.best_tag) == ((), False, None)


@pytest.mark.parametrize("body", [["Ana"], "Ana", None, 12])
def test_a_body_that_is_not_an_object_gives_an_empty_record_keeping_it(body):
    member = Member.from_api(body)
    assert member == Member.from_api({}) == Member()  # every field as absent
    assert member.payload == body and member.key == ""


def test_the_payload_keeps_the_body_and_never_counts_in_comparisons_or_repr():
    body = {"id": 1, "firstName": "Ana", "unknownToUs": {"deep": True}}
    member = Member.from_api(body)
    assert member.payload is body
    assert member == Member.from_api({"id": 1, "firstName": "Ana"})
    assert "unknownToUs" not in repr(member) and "payload" not in repr(member)
    with pytest.raises(FrozenInstanceError):
        member.first_name = "Bea"


def test_the_key_is_the_id_as_text():
    assert [Member.from_api({"id": value}).key for value in (0, 12, "A-1", None)] == ["0", "12", "A-1", ""]


def test_a_vendor_can_wrap_what_payload_keeps():
    @dataclass(frozen=True)
    class Wrapped(Tag):
        @classmethod
        def kept(cls, body):
            return body if body else {"record": repr(body)}

    assert Wrapped.from_api({}).payload == {"record": "{}"}
    assert Wrapped.from_api({"id": 1}).payload == {"id": 1}


def test_a_reader_that_cannot_read_an_absent_field_fails_when_the_record_is_declared():
    with pytest.raises(TypeError):
        @dataclass(frozen=True)
        class Strict(VendorRecord):
            count: int = api("count", read=int)  # int(None): not lenient
