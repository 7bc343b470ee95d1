"""The Gladstone Plus2 Member Web Service contract in one place.

Marks follow ../shared/vendors/gladstone.md: [C] seen in the vendor's help pages, [I]
inferred (no public WSDL was found). When a real WSDL is at hand, correct the names
here: the client, the sandbox and the tests all read them from this module.
"""

import re
from dataclasses import dataclass

NAMESPACE = "http://www.gladstonemrm.com/memberwebservice/"  # [C]
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"  # SOAP 1.1
SOAP_ACTION_PREFIX = NAMESPACE  # SOAPAction: "<prefix><Operation>" [C]
CONTENT_TYPE = "text/xml; charset=utf-8"

# One ASMX endpoint per area, appended to the Base URL (which ends with "/") [C].
LOGIN_AREA = "Login.asmx"
MEMBERS_AREA = "Members.asmx"
GENERAL_AREA = "General.asmx"
SUBSCRIPTIONS_AREA = "Subscriptions.asmx"  # listed by the vendor; no call here uses it

# The SOAP header carrying the credentials [C].
AUTH_HEADER = "AuthHeader"
AUTH_USERNAME, AUTH_PASSWORD, AUTH_APP_NAME = "Username", "Password", "AppName"


@dataclass(frozen=True)
class Operation:
    """One SOAP operation: where it lives, its parameters in order, and its result."""

    name: str
    area: str
    params: tuple[str, ...]
    confirmed: bool  # [C] when the name and parameters were seen documented

    @property
    def soap_action(self) -> str:
        return f"{SOAP_ACTION_PREFIX}{self.name}"

    @property
    def response(self) -> str:  # ASMX wraps results as <OpResponse><OpResult>
        return f"{self.name}Response"

    @property
    def result(self) -> str:
        return f"{self.name}Result"


CHECK_MEMBER_LOGIN = Operation(
    "CheckMemberLogin",
    LOGIN_AREA,
    ("LoginId", "idValue", "loginValidationType", "validationValue"),
    confirmed=True,
)
GET_SUBSCRIPTION_TYPES = Operation(
    "GetSubscriptionTypes",
    GENERAL_AREA,
    ("subscriptionTypeGroupIDs",),
    confirmed=True,
)
# [I] A per-subscriber change queue. Our reading of it: each call returns up to a batch
# of the changes queued for `systemName` that are not yet acknowledged (those handed out
# before and never acknowledged come again first) and stamps them with `runId`;
# `lastRunId` is the run id of the caller's previous read. CleanupMemberChanges removes
# every change handed out so far; changes queued after the read stay queued.
GET_MEMBER_CHANGES = Operation(
    "GetMemberChanges",
    MEMBERS_AREA,
    ("systemName", "lastRunId", "runId"),
    confirmed=False,
)
CLEANUP_MEMBER_CHANGES = Operation(  # [C] name, [I] semantics (see above)
    "CleanupMemberChanges",
    MEMBERS_AREA,
    ("systemName",),
    confirmed=False,
)
# [I] The poller's subscriber: the queue is per systemName, so the poller reads a queue of
# its own under this name and acknowledges it at once. Reading the sync's queue instead
# would stamp changes that the sync's next CleanupMemberChanges then drops unread.
POLL_SYSTEM_SUFFIX = "-poll"


def poll_system_name(system_name: str) -> str:
    """The poller's subscriber name beside the sync's `system_name` (at most 50 characters)."""
    return system_name[: 50 - len(POLL_SYSTEM_SUFFIX)] + POLL_SYSTEM_SUFFIX


RETRIEVE_MEMBER = Operation("RetrieveMember", MEMBERS_AREA, ("memberId",), confirmed=False)
GET_MEMBER_SUBSCRIPTIONS = Operation(  # [C] name, [I] parameters
    "GetMemberSubscriptionsWithDetails",
    MEMBERS_AREA,
    ("memberId",),
    confirmed=False,
)
GET_MEMBER_ATTENDANCES = Operation(  # [I] the capability is documented, the name is not
    "GetMemberAttendances",
    MEMBERS_AREA,
    ("siteId", "fromDate", "toDate"),
    confirmed=False,
)
# No documented call lists every member (nor the members of a site): the Member Web
# Service reads one member by MemberID, and the change queue names those that changed
# since the subscriber's last acknowledgement. So an initial sync cannot load members
# Gatehouse has never seen unless Gladstone queues them; it reads the queue and re-reads
# every member Gatehouse already holds (integrations.gladstone.syncs).
NO_MEMBER_LIST = (
    "Gladstone's Member Web Service has no call that lists every member: an initial sync reads the "
    "change queue (members Gladstone queued for this system name) and re-reads every member Gatehouse "
    "already holds, one RetrieveMember each. A member who is neither queued nor known yet arrives "
    "when Gladstone next queues them (any change to the member does). With a location, only the "
    "clients whose home site it is are re-read, and the change queue is left for the next sync."
)
OPERATIONS = [
    CHECK_MEMBER_LOGIN,
    GET_SUBSCRIPTION_TYPES,
    GET_MEMBER_CHANGES,
    CLEANUP_MEMBER_CHANGES,
    RETRIEVE_MEMBER,
    GET_MEMBER_SUBSCRIPTIONS,
    GET_MEMBER_ATTENDANCES,
]

# Array results hold one element per item, named after the item type.
MEMBER_CHANGE = "MemberChange"  # [I]
SUBSCRIPTION_TYPE = "SubscriptionType"  # [C]
SUBSCRIPTION = "Subscription"  # [I]
ATTENDANCE = "Attendance"  # [I]
STRING_ITEM = "string"  # how ASMX serialises string[] items

# Record fields: our attribute name -> element path under the record ("/" nests).
MEMBER_CHANGE_FIELDS = {"member_id": "MemberID", "change_date": "ChangeDate"}  # [I]
SUBSCRIPTION_TYPE_FIELDS = {  # [C]
    "sub_type_id": "SubTypeId",
    "description": "Description",
    "pro_rata": "ProRataInd",
}
MEMBER_FIELDS = {  # [I]
    "member_id": "MemberID",
    "forename": "Forename",
    "surname": "Surname",
    "email": "HomeEmailAddress",
    "dob": "DOB",
    "site_id": "SiteID",
    "status_id": "StatusID",
    "is_deleted": "IsDeleted",
    # Present only when the instance's security setting allows it (UseStrongPassword off).
    "login_id": "ConnectAndKiosk/LoginID",
    "password": "ConnectAndKiosk/Password",
}
SUBSCRIPTION_FIELDS = {  # [I]
    "subscription_ref": "SubscriptionRef",
    "sub_type_id": "SubTypeId",
    "start_date": "StartDate",
    "end_date": "EndDate",
    "site_id": "SiteId",
    "auto_renew": "AutoRenewInd",
    "creation_date": "CreationDate",
}
ATTENDANCE_FIELDS = {  # [I]
    "attendance_id": "AttendanceID",
    "member_id": "MemberID",
    "site_id": "SiteID",
    "entry_point": "EntryPoint",
    "accessed_at": "AccessDateTime",
    "granted": "Granted",
}

# CheckMemberLogin's choices [C].
LOGIN_ID_KINDS = ("MemberID", "LoginID", "CardID", "HomeEmailAddress")
VALIDATION_TYPES = ("PIN", "Password", "SecurePassword")

# [I] ASMX answers a refused AuthHeader with a soap:Fault (HTTP 500) whose text names the
# authentication; any fault matching this is a credentials problem.
AUTH_FAULT = re.compile(r"authenticat|credential|not authori[sz]ed|app ?name", re.IGNORECASE)
# Standard SOAP 1.1 fault codes: the caller's mistake, or the server's.
CLIENT_FAULT, SERVER_FAULT = "Client", "Server"
SOAP_FAULT_CODES = frozenset({CLIENT_FAULT, SERVER_FAULT, "VersionMismatch", "MustUnderstand"})

# Dates travel as xs:dateTime without an offset, in the club's local time [I].
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
