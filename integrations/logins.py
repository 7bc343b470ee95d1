"""Member app logins: Gatehouse's own credentials first, then the vendors that check them.

A login answers the same way, in about the same time, whether the identifier is unknown,
the password wrong or a vendor down: Gatehouse's check always costs one password hash
(clients.credentials), the vendors are asked after it in every case, and a vendor error
or timeout is just one more "no". Vendor calls share one deadline
(settings.MEMBER_LOGIN_VENDOR_SECONDS, integrations.http.vendor_deadline), so a slow
vendor holds a worker for seconds, not for its full timeouts and retries.
Every attempt is logged with a keyed digest of the identifier, never the password.
"""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from clients.credentials import client_password_check
from clients.lockout import identifier_digest, login_failure_record, login_lock_status, login_success_record
from clients.models import Client
from clients.records import ClientRecord
from clients.services import clients_upsert
from integrations.connectors import Connector, CredentialResult, connector_classes, connector_for
from integrations.errors import VendorError
from integrations.http import vendor_deadline
from integrations.models import Integration

logger = logging.getLogger("gatehouse.login")


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login: the client on success, or how long a lock lasts."""

    client: Client | None = None
    via: str = ""  # "gatehouse" or the source of the integration that vouched
    retry_after: int = 0  # seconds, when refused by the lockout without checking

    @property
    def ok(self) -> bool:
        return self.client is not None

    @property
    def locked(self) -> bool:
        return self.retry_after > 0


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


def _vendor_check(integration: Integration, call: Check) -> CredentialResult:
    """Ask one vendor; any error is a refusal (logged by class, never with the message)."""
    try:
        result = call(connector_for(integration))
    except VendorError as error:
        return CredentialResult(False, reason=type(error).__name__)
    except Exception as error:  # a connector bug must not turn a login into a 500
        where = traceback.extract_tb(error.__traceback__)[-1]
        logger.error("member_login check=%s crashed=%s at=%s:%s", integration.source,
                     type(error).__name__, where.filename, where.lineno)
        return CredentialResult(False, reason=f"crashed:{type(error).__name__}")
    if not isinstance(result, CredentialResult):
        return CredentialResult(False, reason="no result")
    return result


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


def _vendors_login(identifier: str, password: str, reasons: list[str]) -> tuple[Client | None, str]:
    with vendor_deadline(settings.MEMBER_LOGIN_VENDOR_SECONDS):
        for integration in login_integrations():
            result = _vendor_check(integration, lambda c: c.credential_check(identifier, password))
            client = client_from_vendor(integration=integration, record=result.record) if result.ok else None
            if client is not None:
                return client, integration.source
            reason = result.reason or ("no client" if result.ok else "refused")
            reasons.append(f"{integration.source}:{reason}")
    return None, ""


def _log(outcome: str, identifier: str, ip: str, **extra) -> None:
    details = "".join(f" {key}={value}" for key, value in extra.items() if value not in (None, ""))
    logger.info("member_login outcome=%s id=%s ip=%s%s", outcome, identifier_digest(identifier)[:16], ip,
                details)


def member_login(*, identifier: str, password: str, ip: str) -> LoginOutcome:
    """Log a member in with an identifier (e-mail, member number, login id) and a password.

    Gatehouse's own credentials first, then each active integration that checks member
    credentials, in login order; the first that vouches wins (its client matched by the
    vendor's id, else created from the vendor's record). A locked identifier or pair is
    refused without checking (clients.lockout); every failure is counted.
    """
    lock = login_lock_status(identifier=identifier, ip=ip)
    if lock.locked:
        _log("locked", identifier, ip, retry_after=lock.retry_after)
        return LoginOutcome(retry_after=lock.retry_after)
    reasons: list[str] = []
    client, via = client_password_check(identifier=identifier, password=password), "gatehouse"
    if client is None:
        reasons.append("gatehouse:refused")
        client, via = _vendors_login(identifier, password, reasons)
    if client is None:
        login_failure_record(identifier=identifier, ip=ip)
        _log("failed", identifier, ip, checks=",".join(reasons))
        return LoginOutcome()
    login_success_record(identifier=identifier, ip=ip)
    _log("ok", identifier, ip, via=via, client=client.pk)
    return LoginOutcome(client=client, via=via)


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
        result = _vendor_check(integration, lambda c: c.member_token_check(token))
    client = client_from_vendor(integration=integration, record=result.record) if result.ok else None
    outcome = "ok" if client is not None else "failed"
    logger.info("member_token_login outcome=%s integration=%s ip=%s%s%s", outcome, integration.source, ip,
                f" client={client.pk}" if client else "", f" reason={result.reason}" if result.reason else "")
    return LoginOutcome(client=client, via=integration.source if client else "")
