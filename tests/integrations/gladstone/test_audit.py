"""The daily SubTypeID audit: one email listing the clients whose valid SubTypeID has no package."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.audits import audit_run
from integrations.models import SyncRun
from integrations.scheduling import schedule_name
from packages.models import Package
from tests.integrations.gladstone.conftest import add_member, make_integration, sync

pytestmark = pytest.mark.django_db
START = datetime.now().replace(microsecond=0) - timedelta(days=3)


def holding(gladstone, sub_type_id, **member) -> int:
    member_id = add_member(gladstone, **member)
    gladstone.subscription_put(
        member_id,
        sub_type_id=sub_type_id,
        site_id="UB",
        start_date=START,
        end_date=START + timedelta(days=90),
    )
    return member_id


def test_clients_with_a_valid_subtypeid_but_no_package_are_emailed_once(gladstone, integration):
    holding(gladstone, "CLASS10", forename="Grace", surname="Hopper")
    holding(gladstone, "CLASS10", forename="Alan", surname="Turing")
    holding(gladstone, "GYM12", forename="Not", surname="OfInterest")  # group ACCES, not configured
    holding(gladstone, "PTPK", forename="Fine", surname="Member")  # has its package
    sync(integration)
    run = audit_run(integration=integration)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ops@club.example", "pt-lead@club.example"]
    assert "2 subscription(s) without a Gatehouse package" in email.subject
    assert "CLASS10 (10 class credits): 2 client(s)" in email.body
    assert "Grace Hopper (MemberID" in email.body and "Alan Turing (MemberID" in email.body
    assert "OfInterest" not in email.body and "Fine Member" not in email.body
    assert (run.failed, run.skipped) == (2, 1)
    assert "CLASS10" in run.report and "Emailed to ops@club.example" in run.report


def test_nothing_is_sent_when_nothing_is_wrong(gladstone, integration):
    holding(gladstone, "PTPK")
    holding(gladstone, "GYM12")  # no package, but not a SubTypeID Gatehouse expects
    sync(integration)
    run = audit_run(integration=integration)
    assert mail.outbox == []
    assert run.status == SyncRun.Status.SUCCEEDED and run.failed == 0
    assert "have a matching package" in run.report


def test_a_package_created_since_the_sync_clears_the_finding(gladstone, integration):
    holding(gladstone, "CLASS10")
    sync(integration)
    Package.objects.create(alt_id="CLASS10", name="10 classes")
    audit_run(integration=integration)
    assert mail.outbox == []


def test_tiered_subtypeids_resolved_by_the_tier_rule_are_fine(gladstone, integration):
    Package.objects.filter(alt_id="PTPK").delete()
    holding(gladstone, "PTPK02")  # -> PTPK01 with tier 02
    sync(integration)
    audit_run(integration=integration)
    assert mail.outbox == []


def test_without_notification_emails_the_finding_is_kept_on_the_run(gladstone, club):
    integration = make_integration(notification_emails=[])
    holding(gladstone, "CLASS10")
    sync(integration)
    run = audit_run(integration=integration)
    assert mail.outbox == [] and run.failed == 1
    assert "No notification emails are configured" in run.report and "CLASS10" in run.report


def test_the_audit_fails_visibly_when_gladstone_refuses(gladstone, integration):
    gladstone.inject(status=500, path="General")
    run = audit_run(integration=integration)
    assert run.status == SyncRun.Status.FAILED and "TransientError" in run.error
    assert mail.outbox == []


def test_integration_audit_command_prints_the_report(gladstone, integration, capsys):
    holding(gladstone, "CLASS10", forename="Grace", surname="Hopper")
    sync(integration)
    call_command("integration", "audit", integration.name)
    out = capsys.readouterr().out
    assert "audit: succeeded" in out and "Grace Hopper" in out
    assert len(mail.outbox) == 1


def test_integration_audit_command_fails_on_vendor_error(gladstone, integration):
    gladstone.inject(status=500, path="General")
    with pytest.raises(CommandError, match="The audit failed"):
        call_command("integration", "audit", integration.name)


def test_the_audit_runs_daily_on_a_schedule(integration):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name=schedule_name(integration.pk, "audit"))
    assert schedule.minutes == 24 * 60 and schedule.func == "integrations.tasks.audit_task"


def test_the_report_is_readable_in_the_admin(gladstone, integration, admin_client):
    holding(gladstone, "CLASS10", forename="Grace", surname="Hopper")
    sync(integration)
    run = audit_run(integration=integration)
    page = admin_client.get(f"/admin/integrations/syncrun/{run.pk}/change/").content.decode()
    assert "CLASS10 (10 class credits): 1 client(s)" in page and "Grace Hopper" in page
    listing = admin_client.get("/admin/integrations/syncrun/?sync_name=audit").content.decode()
    assert "audit" in listing


def test_subscriptions_without_a_package_are_listed_in_the_admin(gladstone, integration, admin_client):
    holding(gladstone, "CLASS10", forename="Grace", surname="Hopper")
    sync(integration)
    page = admin_client.get("/admin/integrations/pendingrecord/").content.decode()
    assert "CLASS10" in page and "Grace Hopper" in page
