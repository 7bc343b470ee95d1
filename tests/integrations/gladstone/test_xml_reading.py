"""Reading Gladstone's answers: plain UTF-8 answers take the quick parser, anything that
could hold a DTD (another encoding, a comment, CDATA, a DOCTYPE) goes through defusedxml,
and both read the same member; a DTD is refused whichever way it is encoded."""

import pytest

from integrations.errors import PermanentError, TransientError
from integrations.gladstone import contract as c
from integrations.gladstone.client import GladstoneClient, UnsafeXML, parse_xml
from integrations.gladstone.sandbox import APP_NAME, PASSWORD, USERNAME, GladstoneSandbox
from integrations.sandbox.base import SandboxResponse, route
from integrations.sandbox.transports import mounted
from tests.integrations.gladstone.conftest import GLADSTONE_URL
from tests.integrations.gladstone.test_hostile_xml import BILLION_LAUGHS


class FixedAnswer(GladstoneSandbox):
    """A Gladstone answering every SOAP call with `body` (bytes, as sent)."""

    body = b""

    @route("POST", r"(?:.*/)?(?:Login|Members|General|Subscriptions)\.asmx")
    def soap(self, request):
        return SandboxResponse(200, self.body, content_type=c.CONTENT_TYPE)


def member_answer(inner: str, *, declaration='<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        f'{declaration}<soap:Envelope xmlns:soap="{c.SOAP_ENV}"><soap:Body>'
        f'<RetrieveMemberResponse xmlns="{c.NAMESPACE}"><RetrieveMemberResult>{inner}'
        "</RetrieveMemberResult></RetrieveMemberResponse></soap:Body></soap:Envelope>"
    )


MEMBER = (
    "<MemberID>100042</MemberID><Forename>Se\u00e1n</Forename><Surname>O'Neill &amp; Sons</Surname>"
    "<SiteID> UB </SiteID><ConnectAndKiosk><LoginID>sean</LoginID><Password>pw</Password></ConnectAndKiosk>"
)


def read_member(body: bytes):
    fake = FixedAnswer(members=0)
    fake.body = body
    client = GladstoneClient(base_url=GLADSTONE_URL, app_name=APP_NAME, username=USERNAME, password=PASSWORD,
                             sleep=lambda s: None, backoff=0.01)
    with mounted((fake, GLADSTONE_URL)):
        return client.member(member_id=100042)


@pytest.mark.parametrize(
    "body",
    [
        member_answer(MEMBER).encode(),  # plain UTF-8: the quick parser
        member_answer(MEMBER, declaration="").encode(),  # no declaration: UTF-8 by default
        member_answer("<!-- a comment -->" + MEMBER).encode(),  # "<!": defusedxml
        member_answer(MEMBER.replace("<Forename>Se\u00e1n", "<Forename><![CDATA[Se\u00e1n]]>")).encode(),
        member_answer(MEMBER, declaration='<?xml version="1.0" encoding="ISO-8859-1"?>').encode("latin-1"),
        member_answer(MEMBER, declaration='<?xml version="1.0" encoding="utf-16"?>').encode("utf-16"),
    ],
    ids=["utf-8", "no-declaration", "comment", "cdata", "latin-1", "utf-16"],
)
def test_every_readable_encoding_and_markup_reads_the_same_member(body):
    member = read_member(body)
    assert (member.member_id, member.forename, member.surname) == ("100042", "Se\u00e1n", "O'Neill & Sons")
    assert (member.site_id, member.login_id, member.password) == ("UB", "sean", "pw")
    assert member.email == ""  # absent from the answer


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "latin-1"])
def test_a_dtd_is_refused_in_any_encoding(encoding):
    body = BILLION_LAUGHS.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    with pytest.raises(UnsafeXML):
        parse_xml(body.encode(encoding))
    with pytest.raises(PermanentError, match="refused unread"):
        read_member(body.encode(encoding))


def test_an_entity_without_a_dtd_is_unreadable_not_expanded():
    with pytest.raises(TransientError, match="unreadable XML"):
        read_member(member_answer(MEMBER.replace("Se\u00e1n", "&lol9;")).encode())
