"""Gladstone Plus2's Member Web Service: SOAP 1.1 over `requests`, nothing else.

Envelopes are plain templates with escaped values; answers are untrusted input, parsed
with defusedxml (a DTD, an entity declaration or an external reference is refused
unread: SOAP forbids DTDs, so nothing is ever expanded or fetched). An answer that
cannot hold a DTD at all (UTF-8 with no "<!" anywhere) goes to the C parser directly:
a DTD, and so any entity declaration, starts with "<!". Values come back as the strings
Gladstone sent; mapping.py reads them. Names of operations and elements live in contract.py.
"""

import re
import xml.etree.ElementTree as ET  # the C parser only for answers that cannot hold a DTD (parse_xml)
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from xml.sax.saxutils import escape

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from integrations.errors import AuthError, PermanentError, TransientError, VendorError
from integrations.gladstone import contract as c
from integrations.http import VendorHTTP

_BODY, _FAULT = f"{{{c.SOAP_ENV}}}Body", f"{{{c.SOAP_ENV}}}Fault"


@dataclass(frozen=True)
class Record:
    def as_payload(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MemberChange(Record):
    member_id: str
    change_date: str = ""


@dataclass(frozen=True)
class SubscriptionType(Record):
    sub_type_id: str
    description: str = ""
    pro_rata: str = ""


@dataclass(frozen=True)
class Member(Record):
    member_id: str
    forename: str = ""
    surname: str = ""
    email: str = ""
    dob: str = ""
    site_id: str = ""
    status_id: str = ""
    is_deleted: str = ""
    login_id: str = ""
    password: str = ""

    def as_payload(self) -> dict:
        return {**asdict(self), "password": "***" if self.password else ""}  # never stored


@dataclass(frozen=True)
class Subscription(Record):
    subscription_ref: str
    sub_type_id: str = ""
    start_date: str = ""
    end_date: str = ""
    site_id: str = ""
    auto_renew: str = ""
    creation_date: str = ""


@dataclass(frozen=True)
class Attendance(Record):
    attendance_id: str
    member_id: str = ""
    site_id: str = ""
    entry_point: str = ""
    accessed_at: str = ""
    granted: str = ""


def envelope(operation: c.Operation, auth: dict[str, str], params: dict) -> bytes:
    """A SOAP 1.1 request envelope for `operation` with the AuthHeader."""
    body = "".join(_element(name, params.get(name)) for name in operation.params)
    return (_envelope_head(tuple(auth.items())) + (
        f'<soap:Body><{operation.name} xmlns="{c.NAMESPACE}">{body}</{operation.name}></soap:Body>'
        "</soap:Envelope>"
    )).encode()


@lru_cache(maxsize=64)
def _envelope_head(auth: tuple[tuple[str, str], ...]) -> str:
    # The same for every call of one client: built once.
    header = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in auth)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{c.SOAP_ENV}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<soap:Header><{c.AUTH_HEADER} xmlns="{c.NAMESPACE}">{header}</{c.AUTH_HEADER}></soap:Header>'
    )


def _element(name: str, value) -> str:
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    if isinstance(value, (list, tuple)):
        items = "".join(f"<{c.STRING_ITEM}>{escape(str(v))}</{c.STRING_ITEM}>" for v in value)
        return f"<{name}>{items}</{name}>"
    if isinstance(value, datetime):
        value = value.strftime(c.DATETIME_FORMAT)
    elif isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


class UnsafeXML(ValueError):
    """A SOAP message carrying a DTD, an entity declaration or an external reference."""


# An XML declaration naming UTF-8 (or no encoding): then "<!" can only be the bytes 3C 21.
_UTF8_DECLARATION = re.compile(
    rb"""<\?xml\s+version\s*=\s*["']1\.[0-9]["'](?:\s+encoding\s*=\s*["']utf-8["'])?"""
    rb"""(?:\s+standalone\s*=\s*["'](?:yes|no)["'])?\s*\?>""",
    re.IGNORECASE,
)


def _cannot_hold_dtd(content: bytes) -> bool:
    """True for UTF-8 XML with no "<!" anywhere: no DOCTYPE, so no entity declarations
    and nothing external (comments and CDATA also start with "<!": those go to defusedxml)."""
    if b"<!" in content:
        return False
    if content.startswith(b"<?xml"):
        return _UTF8_DECLARATION.match(content) is not None
    return content.startswith(b"<") and not content.startswith(b"<?")


def parse_xml(content: bytes) -> ET.Element:
    """Parse a SOAP message; raise UnsafeXML for a DTD or entities, ValueError for unreadable XML."""
    try:
        if _cannot_hold_dtd(content):
            return ET.fromstring(content)  # noqa: S314 - no DTD is possible (see _cannot_hold_dtd)
        return safe_fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise UnsafeXML(f"XML with a DTD or entities, refused unread ({type(error).__name__})") from None
    except ET.ParseError as error:
        raise ValueError(f"unreadable XML: {error}") from None


def fault_of(root: ET.Element) -> tuple[str, str] | None:
    """(fault code without prefix, fault string) of a soap:Fault envelope, else None."""
    fault = root.find(f"{_BODY}/{_FAULT}")
    if fault is None:
        return None
    code = (fault.findtext("faultcode") or "").rsplit(":", 1)[-1]
    return code, (fault.findtext("faultstring") or "").strip()


@lru_cache(maxsize=32)
def _qualified(fields: tuple[tuple[str, str], ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each field's element path as namespaced tags ("A/B" -> ("{ns}A", "{ns}B"))."""
    return tuple((attr, tuple(f"{{{c.NAMESPACE}}}{step}" for step in path.split("/"))) for attr, path in fields)


def _record(cls, element: ET.Element, fields: dict[str, str]):
    # One pass over the record's children and grandchildren, the first of each path as
    # find() would take it, instead of one find() per field.
    found: dict[tuple[str, ...], ET.Element] = {}
    for child in element:
        found.setdefault((child.tag,), child)
        for grandchild in child:
            found.setdefault((child.tag, grandchild.tag), grandchild)
    values = {}
    for attr, path in _qualified(tuple(fields.items())):
        hit = found.get(path) if len(path) <= 2 else element.find("/".join(path))
        values[attr] = (hit.text or "").strip() if hit is not None else ""
    return cls(**values)


class GladstoneClient:
    """One Gladstone instance, as one API user under one registered app name."""

    def __init__(self, *, base_url: str, app_name: str, username: str, password: str, **http_options):
        self.auth = {c.AUTH_USERNAME: username, c.AUTH_PASSWORD: password, c.AUTH_APP_NAME: app_name}
        self.http = VendorHTTP(
            vendor="gladstone",
            base_url=base_url,
            headers={"Content-Type": c.CONTENT_TYPE},
            secrets=[password],
            error_hook=self._fault_error,
            **http_options,
        )

    # transport ---------------------------------------------------------------
    def call(self, operation: c.Operation, **params) -> ET.Element | None:
        """Send one operation; return its <OpResult> element (None when it is empty)."""
        response = self.http.request(
            "POST",
            operation.area,
            data=envelope(operation, self.auth, params),
            headers={"SOAPAction": f'"{operation.soap_action}"'},
            idempotent=True,  # reads, and an acknowledgement that is safe to repeat
        )
        try:
            root = parse_xml(response.content)
        except UnsafeXML as error:
            # Not a broken answer that a retry may fix: something on the path sends hostile XML.
            raise PermanentError(f"gladstone: {operation.name} answered {error}") from None
        except ValueError as error:
            raise TransientError(f"gladstone: {operation.name} answered {error}") from None
        if (fault := fault_of(root)) is not None:
            raise self._error(operation.name, *fault)
        answer = root.find(f"{_BODY}/{{{c.NAMESPACE}}}{operation.response}")
        if answer is None:
            raise TransientError(f"gladstone: {operation.name} answered without {operation.response}")
        return answer.find(f"{{{c.NAMESPACE}}}{operation.result}")

    def _fault_error(self, response: requests.Response) -> VendorError | None:
        """Map an HTTP 500 soap:Fault to the error hierarchy (other statuses: the default)."""
        if response.status_code != 500:
            return None
        try:
            fault = fault_of(parse_xml(response.content))
        except ValueError:
            return None
        return self._error(self._operation_of(response), *fault) if fault else None

    @staticmethod
    def _operation_of(response: requests.Response) -> str:
        action = response.request.headers.get("SOAPAction", "") if response.request is not None else ""
        return action.strip('"').rsplit("/", 1)[-1] or "call"

    def _error(self, operation: str, code: str, text: str) -> VendorError:
        """A soap:Fault as an error; its faultstring decides the class but stays out of the
        message (messages reach admin pages), and only a standard fault code is named."""
        shown = code if code in c.SOAP_FAULT_CODES else "(not a standard code)"
        message = f"gladstone: {operation} fault {shown}"
        if c.AUTH_FAULT.search(text):
            return AuthError(f"{message}: the vendor refused the credentials "
                             "(check the Username, Password and App Name settings)")
        if code == c.SERVER_FAULT:
            return TransientError(f"{message}: the vendor failed to answer")
        return PermanentError(f"{message}: the vendor refused the request")

    def _items(self, operation: c.Operation, item: str, cls, fields: dict[str, str], **params) -> list:
        result = self.call(operation, **params)
        if result is None:
            return []
        return [_record(cls, element, fields) for element in result.findall(f"{{{c.NAMESPACE}}}{item}")]

    # operations --------------------------------------------------------------
    def check_member_login(
        self, *, login_id: str, id_value: str, validation_type: str, validation_value: str
    ) -> int:
        """The member id the credentials belong to; 0 when Gladstone refuses them."""
        result = self.call(
            c.CHECK_MEMBER_LOGIN,
            LoginId=login_id,
            idValue=id_value,
            loginValidationType=validation_type,
            validationValue=validation_value,
        )
        try:
            return int((result.text or "0").strip()) if result is not None else 0
        except ValueError:
            raise PermanentError(
                "gladstone: CheckMemberLogin answered something other than a member id"
            ) from None

    def subscription_types(self, *, group_ids: list[str]) -> list[SubscriptionType]:
        """The subscription types of the given SubscriptionTypeGroupIDs."""
        return self._items(
            c.GET_SUBSCRIPTION_TYPES,
            c.SUBSCRIPTION_TYPE,
            SubscriptionType,
            c.SUBSCRIPTION_TYPE_FIELDS,
            subscriptionTypeGroupIDs=list(group_ids),
        )

    def member_changes(self, *, system_name: str, last_run_id: int, run_id: int) -> list[MemberChange]:
        """The next batch of queued member changes for `system_name` (see contract.py)."""
        return self._items(
            c.GET_MEMBER_CHANGES,
            c.MEMBER_CHANGE,
            MemberChange,
            c.MEMBER_CHANGE_FIELDS,
            systemName=system_name,
            lastRunId=last_run_id,
            runId=run_id,
        )

    def member_changes_cleanup(self, *, system_name: str) -> None:
        """Acknowledge every change handed out so far (call only once they are committed)."""
        self.call(c.CLEANUP_MEMBER_CHANGES, systemName=system_name)

    def member(self, *, member_id: int | str) -> Member | None:
        """One member (None when Gladstone has no such member)."""
        result = self.call(c.RETRIEVE_MEMBER, memberId=member_id)
        member = _record(Member, result, c.MEMBER_FIELDS) if result is not None else None
        return member if member is not None and member.member_id else None

    def member_subscriptions(self, *, member_id: int | str) -> list[Subscription]:
        """A member's subscriptions with their details."""
        return self._items(
            c.GET_MEMBER_SUBSCRIPTIONS,
            c.SUBSCRIPTION,
            Subscription,
            c.SUBSCRIPTION_FIELDS,
            memberId=member_id,
        )

    def attendances(self, *, site_id: str, since: datetime, until: datetime) -> list[Attendance]:
        """Door accesses at one site between two local times (inclusive)."""
        return self._items(
            c.GET_MEMBER_ATTENDANCES,
            c.ATTENDANCE,
            Attendance,
            c.ATTENDANCE_FIELDS,
            siteId=site_id,
            fromDate=since,
            toDate=until,
        )
