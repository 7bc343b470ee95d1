"""Member app logins: Gatehouse's own credentials first, then the vendors that check them.

A login answers the same way, in about the same time, whether the identifier is unknown,
shared by several accounts or the password wrong: Gatehouse's check always costs one
password hash (clients.credentials), and the vendors are asked after it in every case.
The attempt is reserved before any check (clients.lockout), so bursts cannot outrun the
limits. Member systems are asked at the same time, each within its own budget
(settings.MEMBER_LOGIN_VENDOR_SECONDS, integrations.http.vendor_deadline), so a slow or
broken one neither holds up another's members nor decides for them; the login order
still says which wins when several vouch. A system that errs or times out did not
answer: if nobody could answer the attempt is not counted and the member is told to
retry (503), the same for every identifier. Vendor calls run in threads; anything
written to the database (the client a vendor vouched for) is written by the request's
own thread. Every attempt is logged with a keyed digest of the identifier, never the
password.
"""

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from clients.credentials import client_password_check
from clients.lockout import (
    identifier_digest,
    login_attempt_reserve,
    login_attempt_succeeded,
    login_attempt_unanswered,
)
from clients.models import Client
from clients.records import ClientRecord
from clients.services import clients_upsert
from integrations.connectors import Connector, CredentialResult, connector_classes, connector_for
from integrations.errors import VendorError
from integrations.http import vendor_deadline
from integrations.models import Integration
from integrations.tallies import outcome_count

logger = logging.getLogger("gatehouse.login")

# What a member is told (the app's API and the web portal alike): one answer for an unknown
# account, a wrong password and a vendor that is down.
LOGIN_REFUSED = "Invalid identifier or password."
TOKEN_REFUSED = "Invalid or expired member token."  # noqa: S105 - a message, not a secret
LOCKED = "Too many failed attempts. Try again later."
UNAVAILABLE = "The member systems cannot be reached. Try again later."


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login: the client on success, or how long a lock lasts."""

    client: Client | None = None
    via: str = ""  # "gatehouse" or the source of the integration that vouched
    retry_after: int = 0  # seconds, when refused by the lockout or nobody could answer
    unavailable: bool = False  # no member system could answer: try again later

    @property
    def ok(self) -> bool:
        return self.client is not None

    @property
    def locked(self) -> bool:
        return self.retry_after > 0 and not self.unavailable


class NoSuchTokenIntegration(Exception):
    """The member-token login names no active integration that takes member tokens."""


def _offering(flag: str) -> list[Integration]:
    kinds = [kind for kind, cls in connector_classes().items() if getattr(cls, flag)]
    return list(Integration.objects.filter(is_active=True, kind__in=kinds))


def _login_order(integration: Integration) -> int:
    value = (integration.settings or {}).get("login_order")
    return value if isinstance(value, int) else 10


def login_integrations() -> list[Integration]:
    """Active integrations that check member credentials, in their configured login order."""
    return sorted(_offering("offers_credential_check"), key=lambda i: (_login_order(i), i.pk))


Check = Callable[[Connector], CredentialResult]
# How long past its own budget a vendor's thread is waited for (its calls end by the budget).
THREAD_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class VendorAnswer:
    """What one vendor said, and whether it said anything (an error or timeout is no answer)."""

    result: CredentialResult
    answered: bool = True


def _vendor_check(integration: Integration, call: Check, connector: Connector | None = None) -> VendorAnswer:
    """Ask one vendor; any error is no answer (logged by class, never with the message)."""
    try:
        result = call(connector or connector_for(integration))
    except VendorError as error:
        return VendorAnswer(CredentialResult(False, reason=type(error).__name__), answered=False)
    except Exception as error:  # a connector bug must not turn a login into a 500
        where = traceback.extract_tb(error.__traceback__)[-1]
        logger.error("member_login check=%s crashed=%s at=%s:%s", integration.source,
                     type(error).__name__, where.filename, where.lineno)
        return VendorAnswer(CredentialResult(False, reason=f"crashed:{type(error).__name__}"), answered=False)
    if not isinstance(result, CredentialResult):
        return VendorAnswer(CredentialResult(False, reason="no result"), answered=False)
    return VendorAnswer(result)


def client_from_vendor(*, integration: Integration, record: ClientRecord | None) -> Client | None:
    """The client a vendor vouched for: matched by (source, external id), else created.

    A client the club deleted stays deleted (the vendor's word does not restore it).
    """
    if record is None or not record.external_id or record.deleted:
        return None
    existing = Client.all_objects.filter(source=integration.source, external_id=record.external_id).first()
    if existing is not None:
        return None if existing.deleted_at is not None else existing
    result = clients_upsert(source=integration.source, records=[record])
    pk = result.ids.get(record.external_id)
    return Client.objects.filter(pk=pk).first() if pk else None


def _ask(integration: Integration, connector: Connector, identifier: str, password: str) -> VendorAnswer:
    with vendor_deadline(settings.MEMBER_LOGIN_VENDOR_SECONDS):
        return _vendor_check(integration, lambda c: c.credential_check(identifier, password), connector)


def _ask_in_thread(integration: Integration, connector: Connector, identifier: str, password: str) -> VendorAnswer:
    try:
        return _ask(integration, connector, identifier, password)
    finally:
        connections.close_all()  # this thread's own connections (a connector may read the database)


def _waited(future: Future) -> VendorAnswer:
    try:
        return future.result(timeout=settings.MEMBER_LOGIN_VENDOR_SECONDS + THREAD_MARGIN_SECONDS)
    except FutureTimeout:
        return VendorAnswer(CredentialResult(False, reason="thread timeout"), answered=False)


def _answers(integrations: list[Integration], identifier: str, password: str):
    """Each vendor's answer, in login order, all asked at once (one alone: in this thread)."""
    connectors = [connector_for(integration) for integration in integrations]
    if len(integrations) < 2:
        yield from (_ask(i, c, identifier, password) for i, c in zip(integrations, connectors, strict=True))
        return
    pool = ThreadPoolExecutor(max_workers=len(integrations), thread_name_prefix="member-login")
    try:
        futures = [pool.submit(_ask_in_thread, integration, connector, identifier, password)
                   for integration, connector in zip(integrations, connectors, strict=True)]
    finally:
        pool.shutdown(wait=False)  # nobody waits for a straggler: each ends by its own budget
    for future in futures:
        yield _waited(future)


def _vendors_login(identifier: str, password: str, reasons: list[str]) -> tuple[Client | None, str, bool]:
    """(the client, the source that vouched, whether anybody answered)."""
    integrations = login_integrations()
    answered = not integrations  # with no member system, Gatehouse's own "no" is the answer
    for integration, answer in zip(integrations, _answers(integrations, identifier, password), strict=True):
        answered = answered or answer.answered
        result = answer.result
        client = client_from_vendor(integration=integration, record=result.record) if result.ok else None
        if client is not None:
            return client, integration.source, True
        reason = result.reason or ("no client" if result.ok else "refused")
        reasons.append(f"{integration.source}:{reason}")
    return None, "", answered


def _log(outcome: str, identifier: str, ip: str, **extra) -> None:
    outcome_count(event="member_login", outcome=outcome)  # /metrics: logins by outcome
    details = "".join(f" {key}={value}" for key, value in extra.items() if value not in (None, ""))
    logger.info("member_login outcome=%s id=%s ip=%s%s", outcome, identifier_digest(identifier)[:16], ip,
                details)


def member_login(*, identifier: str, password: str, ip: str, device_key: str = "") -> LoginOutcome:
    """Log a member in with an identifier (e-mail, member number, login id) and a password.

    Gatehouse's own credentials first, then each active integration that checks member
    credentials; the first in login order that vouches wins (its client matched by the
    vendor's id, else created from the vendor's record). The attempt is reserved first
    (clients.lockout): a locked identifier or pair is refused without checking, unless
    `device_key` names a device trusted for the identifier. A failure stays counted; a
    success does not count, nor does an attempt no member system could answer. One that
    some systems refused while others could not answer does count: those that answered
    said no, and making one system fail must not buy free guesses against the others.
    """
    attempt = login_attempt_reserve(identifier=identifier, ip=ip, device_key=device_key)
    if not attempt.allowed:
        _log("locked", identifier, ip, retry_after=attempt.retry_after)
        return LoginOutcome(retry_after=attempt.retry_after)
    reasons: list[str] = []
    client, via, answered = client_password_check(identifier=identifier, password=password), "gatehouse", True
    if client is None:
        reasons.append("gatehouse:refused")
        client, via, answered = _vendors_login(identifier, password, reasons)
    device = "trusted" if attempt.trusted_device else ("new" if device_key else "")
    if client is not None:
        login_attempt_succeeded(attempt=attempt)
        _log("ok", identifier, ip, via=via, client=client.pk, device=device)
        return LoginOutcome(client=client, via=via)
    if not answered:
        login_attempt_unanswered(attempt=attempt)
        _log("unavailable", identifier, ip, checks=",".join(reasons), device=device)
        return LoginOutcome(retry_after=settings.MEMBER_LOGIN_UNAVAILABLE_SECONDS, unavailable=True)
    _log("failed", identifier, ip, checks=",".join(reasons), device=device)
    return LoginOutcome()


def token_integration(*, reference: str | None) -> Integration:
    """The active integration taking member tokens that `reference` (id or kind) names.

    Without a reference there must be exactly one. Raises NoSuchTokenIntegration.
    """
    candidates = _offering("offers_member_token")
    if reference:
        ref = str(reference).strip()
        candidates = [i for i in candidates if str(i.pk) == ref or i.kind == ref]
    if len(candidates) != 1:
        raise NoSuchTokenIntegration("name one active integration that takes member tokens")
    return candidates[0]


def member_token_login(*, integration: Integration, token: str, ip: str) -> LoginOutcome:
    """Log a member in with a partner app's member token, checked by the integration's vendor.

    The connector refuses tampered, expired and replayed tokens; the token is never logged.
    """
    with vendor_deadline(settings.MEMBER_LOGIN_VENDOR_SECONDS):
        result = _vendor_check(integration, lambda c: c.member_token_check(token)).result
    client = client_from_vendor(integration=integration, record=result.record) if result.ok else None
    outcome = "ok" if client is not None else "failed"
    outcome_count(event="member_token_login", outcome=outcome)
    logger.info("member_token_login outcome=%s integration=%s ip=%s%s%s", outcome, integration.source, ip,
                f" client={client.pk}" if client else "", f" reason={result.reason}" if result.reason else "")
    return LoginOutcome(client=client, via=integration.source if client else "")
