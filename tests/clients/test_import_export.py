"""Importing and exporting locations and clients as a manager does, in the admin or by API."""

import csv
import io
import tempfile

import pytest
import tablib
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from clients.models import Client, Location
from clients.resources import ClientResource, LocationResource
from clients.services import client_delete
from tests.factories import ClientFactory, LocationFactory, TagFactory

pytestmark = pytest.mark.django_db

LOCATIONS_CSV = (
    "alt_id,name,address,latitude,longitude,time_zone,is_active\n"
    "LON,London Bridge,1 Bridge St,51.507400,-0.127800,Europe/London,1\n"
    "NYC,New York,5th Ave,40.712800,-74.006000,America/New_York,1\n"
)
CLIENTS_HEADER = "id,first_name,last_name,email,phone,date_of_birth,home_location,alt_id,is_active,tags\n"


@pytest.fixture(autouse=True)
def upload_folder(tmp_path, monkeypatch):
    """Keep the admin's uploaded files (left behind by unconfirmed previews) out of /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def format_index(fmt, export=False) -> str:
    """The position the admin import (or export) form gives `fmt` in its format choices."""
    model_admin = admin.site._registry[Client]
    formats = model_admin.get_export_formats() if export else model_admin.get_import_formats()
    return str(formats.index(fmt))


def upload(browser, model: str, content: bytes, name: str, fmt=CSV):
    """Send a file to the admin import page of `model`; returns the preview response."""
    return browser.post(reverse(f"admin:clients_{model}_import"), {
        "resource": "0", "format": format_index(fmt),
        "import_file": SimpleUploadedFile(name, content),
    })


def confirm(browser, model: str, preview):
    """Press "Confirm import" on a preview page."""
    return browser.post(
        reverse(f"admin:clients_{model}_process_import"), preview.context["confirm_form"].initial
    )


def csv_dataset(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


def test_locations_csv_imports_every_row():
    result = LocationResource().import_data(csv_dataset(LOCATIONS_CSV))
    assert not result.has_errors() and not result.has_validation_errors()
    nyc = Location.objects.get(alt_id="NYC")
    assert (nyc.name, nyc.time_zone, str(nyc.latitude)) == ("New York", "America/New_York", "40.712800")
    assert Location.objects.count() == 2


def test_location_import_updates_by_alt_id():
    LocationFactory(alt_id="LON", name="Old name")
    LocationResource().import_data(csv_dataset(LOCATIONS_CSV))
    assert Location.objects.get(alt_id="LON").name == "London Bridge"


def test_location_file_with_a_bad_time_zone_imports_nothing():
    bad = LOCATIONS_CSV + "MRS,Olympus,,0,0,Mars/Olympus,1\n"
    result = LocationResource().import_data(csv_dataset(bad))
    assert [row.number for row in result.invalid_rows] == [3]
    assert "is not an IANA time zone" in result.invalid_rows[0].error_dict["time_zone"][0]
    assert not Location.objects.exists()


def test_clients_csv_imports_every_row_with_location_and_tags():
    LocationFactory(alt_id="LON")
    TagFactory(name="vip")
    text = CLIENTS_HEADER + (
        ",Ada,Lovelace,ada@example.com,,1990-05-01,LON,M-1,1,vip\n"
        ",Grace,Hopper,grace@example.com,,,LON,M-2,1,\n"
    )
    result = ClientResource().import_data(csv_dataset(text))
    assert not result.has_errors() and not result.has_validation_errors()
    ada = Client.objects.get(alt_id="M-1")
    assert (ada.home_location.alt_id, str(ada.date_of_birth)) == ("LON", "1990-05-01")
    assert list(ada.tags.values_list("name", flat=True)) == ["vip"]
    assert Client.objects.count() == 2


def test_client_file_with_an_unknown_home_location_imports_nothing():
    LocationFactory(alt_id="LON")
    text = CLIENTS_HEADER + (
        ",Ada,Lovelace,ada@example.com,,,LON,M-1,1,\n"
        ",Grace,Hopper,grace@example.com,,,NOPE,M-2,1,\n"
    )
    result = ClientResource().import_data(csv_dataset(text))
    assert [line for line, _ in result.row_errors()] == [2]
    assert "does not exist" in str(result.row_errors()[0][1][0].error)
    assert not Client.all_objects.exists()


def test_client_file_with_a_duplicate_alt_id_imports_nothing():
    text = CLIENTS_HEADER + ",Ada,Lovelace,,,,,M-1,1,\n,Grace,Hopper,,,,,M-1,1,\n"
    result = ClientResource().import_data(csv_dataset(text))
    assert [row.number for row in result.invalid_rows] == [2]
    assert not Client.all_objects.exists()


def test_client_file_reusing_a_deleted_clients_alt_id_reports_the_row():
    client_delete(client=ClientFactory(alt_id="M-1"))
    result = ClientResource().import_data(csv_dataset(CLIENTS_HEADER + ",Ada,Lovelace,,,,,M-1,1,\n"))
    assert [row.number for row in result.invalid_rows] == [1]
    assert "restore that client instead" in result.invalid_rows[0].error_dict["alt_id"][0]
    assert Client.all_objects.count() == 1


def test_admin_import_of_locations_previews_then_creates_them(manager_client):
    preview = upload(manager_client, "location", LOCATIONS_CSV.encode(), "locations.csv")
    assert "Confirm import" in preview.content.decode() and not Location.objects.exists()
    response = confirm(manager_client, "location", preview)
    assert response.status_code == 302
    assert sorted(Location.objects.values_list("alt_id", flat=True)) == ["LON", "NYC"]


def test_admin_import_of_clients_previews_then_creates_them(manager_client):
    LocationFactory(alt_id="LON")
    text = CLIENTS_HEADER + ",Ada,Lovelace,ada@example.com,,,LON,M-1,1,\n"
    preview = upload(manager_client, "client", text.encode(), "clients.csv")
    assert "Ada" in preview.content.decode() and not Client.objects.exists()
    confirm(manager_client, "client", preview)
    assert Client.objects.get(alt_id="M-1").home_location.alt_id == "LON"


def test_admin_preview_reports_the_bad_row_and_offers_no_confirm(manager_client):
    bad = LOCATIONS_CSV + "MRS,Olympus,,0,0,Mars/Olympus,1\n"
    page = upload(manager_client, "location", bad.encode(), "locations.csv").content.decode()
    assert "Some rows failed to validate" in page and "Mars/Olympus" in page
    assert "<td>3 </td>" in page and "is not an IANA time zone" in page
    assert "Confirm import" not in page and not Location.objects.exists()


def test_admin_preview_reports_an_unknown_home_location_by_line(manager_client):
    text = CLIENTS_HEADER + ",Ada,Lovelace,,,,NOPE,M-1,1,\n"
    page = upload(manager_client, "client", text.encode(), "clients.csv").content.decode()
    assert "Line number: 1 - Location matching query does not exist." in page
    assert "Confirm import" not in page and not Client.all_objects.exists()


def test_admin_imports_locations_from_xlsx(manager_client):
    book = csv_dataset(LOCATIONS_CSV).export("xlsx")
    preview = upload(manager_client, "location", book, "locations.xlsx", fmt=XLSX)
    confirm(manager_client, "location", preview)
    assert Location.objects.get(alt_id="NYC").time_zone == "America/New_York"


def test_clients_import_from_xlsx_through_the_resource():
    rows = tablib.Dataset(headers=CLIENTS_HEADER.strip().split(","))
    rows.append(["", "Ada", "Lovelace", "ada@example.com", "", "", "", "M-1", True, ""])
    book = tablib.Dataset().load(rows.export("xlsx"), format="xlsx")
    ClientResource().import_data(book)
    assert Client.objects.get(alt_id="M-1").email == "ada@example.com"


@pytest.fixture
def staff(client, django_user_model):
    """A logged-in staff member who may view clients and locations, nothing more."""
    user = django_user_model.objects.create_user("desk", password="pw-Desk-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="clients", codename__in=["view_client", "view_location"]
    ))
    client.force_login(user)
    client.user = user
    return client


def test_staff_without_import_permission_gets_403_and_no_import_button(staff):
    import_url = reverse("admin:clients_client_import")
    assert staff.get(import_url).status_code == 403
    assert import_url not in staff.get(reverse("admin:clients_client_changelist")).content.decode()


@pytest.mark.parametrize(("model", "upload_text"), [
    ("client", CLIENTS_HEADER + ",Ada,Lovelace,,,,,M-1,1,\n"),
    ("location", LOCATIONS_CSV),
])
def test_staff_with_import_permission_can_import(staff, model, upload_text):
    staff.user.user_permissions.add(Permission.objects.get(codename=f"import_{model}"))
    import_url = reverse(f"admin:clients_{model}_import")
    assert import_url in staff.get(reverse(f"admin:clients_{model}_changelist")).content.decode()
    preview = upload(staff, model, upload_text.encode(), f"{model}s.csv")
    assert confirm(staff, model, preview).status_code == 302
    assert Client.objects.exists() if model == "client" else Location.objects.exists()


def export_csv(browser, **filters) -> list[dict]:
    """Export clients as CSV from the admin with every column; returns the rows."""
    fields = {f"clientresource_{name}": "on" for name in ClientResource().get_export_order()}
    response = browser.post(
        reverse("admin:clients_client_export") + ("?deleted=yes" if filters.get("deleted") else ""),
        {"resource": "0", "format": format_index(CSV, export=True), **fields},
    )
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_escapes_a_name_that_looks_like_a_formula(manager_client):
    ClientFactory(first_name='=HYPERLINK("http://evil.example","x")', last_name="Smith")
    [row] = export_csv(manager_client)
    assert row["first_name"] == '\'=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize("start", ["+", "-", "@"])
def test_export_escapes_every_formula_start_but_keeps_numbers(manager_client, start):
    ClientFactory(first_name=f"{start}SUM(A1)", last_name="-12.5")
    [row] = export_csv(manager_client)
    assert row["first_name"] == f"'{start}SUM(A1)" and row["last_name"] == "-12.5"


def test_export_leaves_out_deleted_clients(manager_client):
    ClientFactory(first_name="Kept")
    client_delete(client=ClientFactory(first_name="Gone"))
    assert [row["first_name"] for row in export_csv(manager_client)] == ["Kept"]


def test_non_utf8_file_gets_a_clear_error_and_imports_nothing(manager_client):
    body = "alt_id,name,time_zone\nZUR,Zürich,Europe/Zurich\n".encode("latin-1")
    page = upload(manager_client, "location", body, "locations.csv").content.decode()
    assert "UnicodeDecodeError" in page and "Ensure you have chosen the correct format" in page
    assert not Location.objects.filter(alt_id="ZUR").exists()


def test_oversized_file_is_refused_before_it_is_read(manager_client):
    body = b"alt_id,name,time_zone\n" + b"X,Club,Europe/London\n" * 300_000
    page = upload(manager_client, "location", body, "locations.csv").content.decode()
    assert "the limit is 5 MB" in page and "Split it into smaller files" in page


def test_too_many_rows_imports_nothing_and_says_why(manager_client, monkeypatch):
    monkeypatch.setattr("clients.importing.MAX_IMPORT_ROWS", 3)
    body = b"alt_id,name,time_zone\n" + b"".join(b"R%d,Club,Europe/London\n" % n for n in range(5))
    page = upload(manager_client, "location", body, "locations.csv").content.decode()
    assert "The file has 5 rows; import at most 3 at a time" in page
    assert not Location.objects.filter(alt_id__startswith="R").exists()
