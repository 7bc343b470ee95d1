"""The daily SubTypeID audit: valid subscription types that clients hold without a package.

What the member sync could not place waits in the framework's back-fill
(integrations.pending: one PendingRecord per subscription, replaced each time the member
is read, gone once its client package is written). The audit first places whatever can
be placed now, then asks Gladstone for the SubTypeIDs of the configured groups and sends
one email listing the clients still waiting. A finding clears only when those clients
hold the package. Nothing is sent when nothing is wrong.
"""

from django.conf import settings
from django.core.mail import send_mail

from integrations.models import PendingRecord
from integrations.pending import pending_by_package, pending_records_apply


def subtype_audit(*, connector, run) -> None:
    """Fill `run` (report, counts) and email the notification list when packages are missing.

    Counts: `failed` = subscriptions of valid SubTypeIDs without a package (listed),
    `skipped` = subscriptions without a package whose SubTypeID is not of the groups,
    `unchanged` = valid SubTypeIDs Gladstone returned.
    """
    integration = connector.integration
    groups = connector.settings.get("subscription_type_groups") or []
    if not groups:
        run.report = "No SubscriptionTypeGroupIDs are configured, so there is nothing to check."
        return
    types = {
        t.sub_type_id: t for t in connector.client().subscription_types(group_ids=groups) if t.sub_type_id
    }
    # A package made in a way that sends no signal (SQL, a restore) is caught up here.
    pending_records_apply(integration=integration, waits_for=[PendingRecord.Waits.PACKAGE])
    waiting = pending_by_package(integration=integration)
    missing = {sub_type_id: rows for sub_type_id, rows in waiting.items() if sub_type_id in types}
    other = sum(len(rows) for sub_type_id, rows in waiting.items() if sub_type_id not in types)
    listed = sum(len(v) for v in missing.values())
    run.pages, run.unchanged, run.failed, run.skipped = 1, len(types), listed, other
    if not missing:
        run.report = (
            f"All clients holding one of the {len(types)} valid SubTypeIDs of "
            f"{', '.join(groups)} have a matching package."
        )
        return
    body = _email_body(integration, groups, types, missing)
    recipients = connector.settings.get("notification_emails") or []
    if recipients:
        send_mail(
            f"Gladstone Plus2 ({integration.name}): {listed} subscription(s) without a Gatehouse package",
            body,
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
        run.report = f"Emailed to {', '.join(recipients)}:\n\n{body}"
    else:
        run.report = f"No notification emails are configured; nothing was sent.\n\n{body}"


def _email_body(integration, groups, types, missing) -> str:
    lines = [
        f"The Gladstone integration {integration.name!r} received clients holding subscription types of "
        f"{', '.join(groups)} that match no Gatehouse package, so those clients were given no package.",
        "Create a package whose alt ID is the SubTypeID (Settings > Integrations > "
        f"{integration.name} > Catalogue can create them): creating the package assigns it to the "
        "clients listed under it at once.",
        "",
    ]
    for sub_type_id, rows in missing.items():
        clients = len({row.client_id for row in rows})
        lines.append(
            f"{sub_type_id} ({types[sub_type_id].description or 'no description'}): {len(rows)} client(s); "
            f"creating the package assigns it to these {clients} client(s) at once"
        )
        lines += [
            f"  - {row.client} (MemberID {row.client.external_id}, SubscriptionRef {row.reference}, "
            f"from {row.record['start'][:10]})"
            for row in rows
        ]
        lines.append("")
    return "\n".join(lines)
