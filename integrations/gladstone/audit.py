"""The daily SubTypeID audit: valid subscription types that clients hold without a package.

What the member sync received is remembered in UnmatchedSubscription (one row per
subscription whose SubTypeID matched no package, replaced each time the member is
read). The audit asks Gladstone for the SubTypeIDs of the configured groups, re-checks
each remembered row against today's packages (a manager may have added one since), and
sends one email listing the clients concerned. Nothing is sent when nothing is wrong.
"""

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail

from integrations.gladstone.lookups import package_index_load
from integrations.gladstone.models import UnmatchedSubscription


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
    index = package_index_load()
    rows = (
        UnmatchedSubscription.objects.filter(integration=integration, client__deleted_at__isnull=True)
        .select_related("client")
        .order_by("sub_type_id", "member_id")
    )
    missing: dict[str, list[UnmatchedSubscription]] = defaultdict(list)
    resolved, other = [], 0
    for row in rows:
        if index.package_alt_id(row.sub_type_id) is not None:
            resolved.append(row.pk)  # a package exists now
        elif row.sub_type_id in types:
            missing[row.sub_type_id].append(row)
        else:
            other += 1
    UnmatchedSubscription.objects.filter(pk__in=resolved).delete()
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
        f"{integration.name} > Catalogue can create them), then the next sync assigns it.",
        "",
    ]
    for sub_type_id, rows in missing.items():
        lines.append(
            f"{sub_type_id} ({types[sub_type_id].description or 'no description'}): {len(rows)} client(s)"
        )
        lines += [
            f"  - {row.client} (MemberID {row.member_id}, SubscriptionRef {row.subscription_ref}, "
            f"from {row.start:%Y-%m-%d})"
            for row in rows
        ]
        lines.append("")
    return "\n".join(lines)
