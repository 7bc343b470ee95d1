"""The Kisi REST calls Gatehouse may make: exactly the ones ../shared/vendors/kisi.md lists.

The client sends only these, the sandbox serves only these, and a test drives every
client method and compares what it sent with this list. A call the vendor file does not
document does not belong here: find a documented way instead (the lock's online state,
for instance, comes from `GET /locks`, not from a `GET /locks/<id>`).
"""

import re
from dataclasses import dataclass

ID = "<id>"  # stands for a numeric id segment in a path template
_ID_SEGMENT = re.compile(r"(?<=/)\d+(?=/|$)")


@dataclass(frozen=True)
class Call:
    """One documented call: method, path template (no leading slash) and confidence mark."""

    method: str
    path: str
    mark: str  # C: vendor docs, O: third-party production code (as the vendor file marks it)


CALLS = (
    Call("GET", "places", "C"),
    Call("GET", "groups", "C"),  # filters ids, place_id, query, scope
    Call("GET", "users", "C"),  # query=<email>
    Call("POST", "users", "C"),
    Call("GET", "role_assignments", "C"),  # user_id=<id>&scope=group
    Call("POST", "role_assignments", "C"),
    Call("DELETE", f"role_assignments/{ID}", "C"),
    Call("GET", "locks", "C"),  # filter place_id; each lock says whether it is `online`
    Call("POST", f"locks/{ID}/unlock", "C"),
    Call("POST", "event_sets", "O"),  # polling fallback for unlock events
)
DOCUMENTED = frozenset((call.method, call.path) for call in CALLS)


def path_template(path: str) -> str:
    """A request path as the contract writes it: "/locks/1234/unlock" -> "locks/<id>/unlock"."""
    return _ID_SEGMENT.sub(ID, "/" + path.strip("/"))[1:]


def documented(method: str, path: str) -> bool:
    """Whether METHOD and path (ids included) are a call the contract lists."""
    return (method.upper(), path_template(path)) in DOCUMENTED
