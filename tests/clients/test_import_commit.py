"""The confirm step of an admin import logs and reports only what it committed.

A file whose dry run failed can still be posted straight to `process_import` (its upload
is already in the temporary folder); the all-or-nothing resource then writes nothing, and
the admin must say so instead of "Import finished: 2 new, 1 updated".
"""

import tempfile

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse

from clients.models import Location
from tests.clients.test_import_export import LOCATIONS_CSV, upload
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db
# LON exists (an update), NYC and PAR are new.
GOOD = LOCATIONS_CSV + "PAR,Paris,1 Rue,48.856600,2.352200,Europe/Paris,1\n"
BAD = GOOD + "MRS,Olympus,,0,0,Mars/Olympus,1\n"


@pytest.fixture
def upload_folder(tmp_path, monkeypatch):
    """The admin's temporary upload folder, to find the file a preview left there."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.fixture
def london():
    return LocationFactory(alt_id="LON", name="Old name")


def confirm_posted(browser, folder, body: str):
    """Preview `body`, then post its confirm form by hand whatever the preview said."""
    preview = upload(browser, "location", body.encode(), "locations.csv")
    [stored] = list(folder.iterdir())
    response = browser.post(reverse("admin:clients_location_process_import"), {
        "import_file_name": stored.name, "original_file_name": "locations.csv",
        "format": preview.context["form"].cleaned_data["format"], "resource": "0",
    }, follow=True)
    return response, [str(message) for message in response.context["messages"]]


def test_confirming_a_file_that_failed_its_dry_run_logs_and_reports_nothing_imported(
        manager_client, upload_folder, london):
    response, said = confirm_posted(manager_client, upload_folder, BAD)
    assert response.status_code == 200
    assert not LogEntry.objects.exists()
    assert sorted(Location.objects.values_list("alt_id", "name")) == [("LON", "Old name")]
    assert len(said) == 1 and "Import finished" not in said[0]
    assert said[0].startswith("Nothing was imported (0 locations)")
    assert "row 4: time_zone:" in said[0] and "is not an IANA time zone" in said[0], said


def test_a_good_import_logs_each_committed_row_and_reports_the_counts(manager_client, upload_folder, london):
    _, said = confirm_posted(manager_client, upload_folder, GOOD)
    assert sorted(Location.objects.values_list("alt_id", flat=True)) == ["LON", "NYC", "PAR"]
    logged = sorted((entry.object_repr, entry.action_flag) for entry in LogEntry.objects.all())
    assert logged == sorted([(str(Location.objects.get(alt_id=alt)), flag)
                             for alt, flag in [("LON", CHANGE), ("NYC", ADDITION), ("PAR", ADDITION)]])
    assert said == ["Import finished: 2 new, 1 updated, 0 deleted and 0 skipped locations."]
