"""rows_write (one-statement bulk upserts) and the field__any lookup the sync services use."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from clients.bulk import rows_write
from clients.models import Client, ClientIdentity
from packages.models import ClientPackage
from tests.factories import ClientFactory, IdentityTypeFactory, LocationFactory

pytestmark = pytest.mark.django_db
KEY = ["source", "external_id"]


def client_rows(n, **changes):
    now = timezone.now()
    return [{"source": "bulk", "external_id": str(i), "first_name": f"F{i}", "last_name": "Same",
             "date_of_birth": date(1990, 1, 1) + timedelta(days=i) if i % 2 else None,
             "home_location_id": None, "is_active": True, "created_at": now, "updated_at": now, **changes}
            for i in range(n)]


def test_rows_are_inserted_with_defaults_for_the_columns_not_given():
    rows_write(model=Client, rows=client_rows(3))
    clients = {c.external_id: c for c in Client.all_objects.filter(source="bulk")}
    assert sorted(clients) == ["0", "1", "2"]
    assert (clients["1"].first_name, clients["1"].date_of_birth, clients["0"].date_of_birth) == (
        "F1", date(1990, 1, 2), None)
    assert clients["2"].email == "" and clients["2"].alt_id == "" and clients["2"].deleted_at is None


def test_conflicts_update_only_the_named_fields():
    rows_write(model=Client, rows=client_rows(2))
    created = {c.external_id: c.created_at for c in Client.all_objects.filter(source="bulk")}
    home = LocationFactory()
    later = timezone.now() + timedelta(hours=1)
    rows_write(model=Client, rows=client_rows(3, last_name="Moved", home_location_id=home.pk, created_at=later),
               unique_fields=KEY, update_fields=["last_name", "home_location_id"])
    clients = {c.external_id: c for c in Client.all_objects.filter(source="bulk")}
    assert {c.last_name for c in clients.values()} == {"Moved"} and len(clients) == 3
    assert all(c.home_location == home for c in clients.values())
    # created_at is stamped on insert, as bulk_create does, and kept on update
    assert clients["0"].created_at == created["0"] and created["0"] < clients["2"].created_at < later


def test_one_row_and_rows_without_conflict_handling():
    kind = IdentityTypeFactory()
    one, two = ClientFactory(), ClientFactory()
    rows_write(model=ClientIdentity, rows=[{"client_id": one.pk, "identity_type_id": kind.pk, "value": "A-1"}])
    rows_write(model=ClientIdentity, rows=[{"client_id": c.pk, "identity_type_id": kind.pk, "value": f"B-{c.pk}"}
                                           for c in (one, two)])
    assert sorted(ClientIdentity.objects.values_list("value", flat=True)) == sorted(
        ["A-1", f"B-{one.pk}", f"B-{two.pk}"])
    assert all(i.changed_at is not None for i in ClientIdentity.objects.all())


def test_the_any_lookup_matches_in():
    clients = [ClientFactory(source="s", external_id=str(n)) for n in range(4)]
    wanted = ["1", "3", "9"]
    assert set(Client.objects.filter(external_id__any=wanted)) == set(Client.objects.filter(external_id__in=wanted))
    assert list(Client.objects.filter(external_id__any=[])) == []
    assert set(Client.objects.filter(external_id__any=wanted).exclude(pk__any=[clients[1].pk])) == {clients[3]}
    assert set(Client.objects.filter(home_location_id__any={clients[0].home_location_id})) == {clients[0]}


def test_returning_gives_the_written_rows_on_postgresql():
    from django.db import connection

    rows_write(model=Client, rows=client_rows(2))
    written = rows_write(model=Client, rows=client_rows(3, last_name="Again"), unique_fields=KEY,
                         update_fields=["last_name"], returning=["external_id", "id"])
    ids = dict(Client.all_objects.filter(source="bulk").values_list("external_id", "id"))
    if connection.vendor == "postgresql":
        assert dict(written) == ids and len(ids) == 3
    else:
        assert written is None


def test_tables_analyze_refreshes_postgresql_statistics():
    from django.db import connection

    from clients.bulk import tables_analyze

    rows_write(model=Client, rows=client_rows(40))
    tables_analyze(models=[Client, ClientIdentity])  # a no-op elsewhere, never an error
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'clients_client'")
            assert cursor.fetchone()[0] == 40


def test_commit_unflushed_relaxes_the_current_transaction():
    from django.db import connection, transaction

    from clients.bulk import commit_unflushed

    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    if connection.vendor != "postgresql":
        with transaction.atomic():
            commit_unflushed()  # nothing to relax on SQLite
        return
    assert setting() == "on"
    with transaction.atomic():
        commit_unflushed()
        assert setting() == "off"  # SET LOCAL: it ends with the transaction


def test_the_any_lookup_still_converts_values_of_other_types(monkeypatch):
    import uuid

    from django.db import connection

    from clients.models import MemberToken
    from tests.factories import ClientPackageFactory

    converted = []

    def spy(field):  # the field's own conversion, noted
        real = field.get_db_prep_value
        monkeypatch.setattr(field, "get_db_prep_value", lambda value, *args, **kwargs: (
            converted.append(value), real(value, *args, **kwargs))[1])

    spy(MemberToken._meta.get_field("family"))
    spy(Client._meta.get_field("date_of_birth"))
    spy(Client._meta.get_field("external_id"))
    family = uuid.uuid4()
    token = MemberToken.objects.create(client=ClientFactory(), kind="access", digest="d", family=family,
                                       expires_at=timezone.now())
    born = ClientFactory(date_of_birth=date(1990, 5, 17), external_id="born")
    converted.clear()
    assert list(MemberToken.objects.filter(family__any=[str(family), str(uuid.uuid4())])) == [token]
    assert list(Client.objects.filter(date_of_birth__any=[date(1990, 5, 17), date(2000, 1, 1)])) == [born]
    # each UUID and date went through its field's conversion (the text ones became UUIDs first)
    assert converted[0] == family and isinstance(converted[1], uuid.UUID)
    assert converted[2:] == [date(1990, 5, 17), date(2000, 1, 1)]
    converted.clear()
    assert list(Client.objects.filter(external_id__any=["born", "other"])) == [born]
    if connection.vendor == "postgresql":
        assert converted == []  # text needs no conversion: the values go as they are
    held = ClientPackageFactory(credits_remaining=3)
    ClientPackageFactory(credits_remaining=4)
    assert list(ClientPackage.objects.filter(credits_remaining__any=[3, 5])) == [held]
    assert list(ClientPackage.objects.filter(credits_remaining__any=["3"])) == [held]


def test_values_of_another_plain_type_are_read_as_their_column_type():
    now = timezone.now()
    rows_write(model=Client, rows=[{"source": "bulk", "external_id": 7, "first_name": "Seven", "last_name": "N",
                                    "is_active": True, "created_at": now, "updated_at": now},
                                   {"source": "bulk", "external_id": 8, "first_name": "Eight", "last_name": "N",
                                    "is_active": True, "created_at": now, "updated_at": now}])
    assert sorted(Client.all_objects.filter(source="bulk").values_list("external_id", "first_name")) == [
        ("7", "Seven"), ("8", "Eight")]


def test_each_call_and_batch_writes_only_its_own_rows():
    from django.db import connection, transaction

    with transaction.atomic():  # one page's transaction writing the same table twice
        rows_write(model=Client, rows=client_rows(3))
        written = rows_write(model=Client, rows=client_rows(5)[3:], unique_fields=KEY,
                             update_fields=["last_name"], returning=["external_id"])
        batches = rows_write(model=Client, rows=client_rows(5, last_name="Batched"), unique_fields=KEY,
                             update_fields=["last_name"], returning=["external_id"], batch_size=2)
    if connection.vendor == "postgresql":
        assert sorted(written) == [("3",), ("4",)]
        assert sorted(batches) == [(str(n),) for n in range(5)]
    assert Client.all_objects.filter(source="bulk", last_name="Batched").count() == 5


@pytest.mark.django_db(transaction=True)
def test_writes_outside_a_transaction_and_after_a_rolled_back_one():
    from django.db import connection, transaction

    rows_write(model=Client, rows=client_rows(2))  # autocommit: the call is its own transaction
    with pytest.raises(RuntimeError), transaction.atomic():
        rows_write(model=Client, rows=client_rows(4, last_name="Lost"), unique_fields=KEY,
                   update_fields=["last_name"])
        raise RuntimeError("the page failed")
    rows_write(model=Client, rows=client_rows(3, last_name="Kept"), unique_fields=KEY, update_fields=["last_name"])
    assert sorted(Client.all_objects.filter(source="bulk").values_list("external_id", "last_name")) == [
        ("0", "Kept"), ("1", "Kept"), ("2", "Kept")]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # nothing is left behind once committed
            cursor.execute("SELECT count(*) FROM stage_clients_client")
            assert cursor.fetchone()[0] == 0


def test_a_naive_time_is_read_in_the_session_time_zone_on_postgresql():
    from datetime import UTC, datetime

    from django.db import connection

    if connection.vendor != "postgresql":
        return  # bulk_create has its own rules (and warnings) for naive times
    rows = client_rows(2)
    for n, row in enumerate(rows):  # one time per row: they go through the copy
        row["deleted_at"] = datetime(2024, 3, 1, 9, n)
    rows_write(model=Client, rows=rows)
    assert sorted(Client.all_objects.filter(source="bulk").values_list("deleted_at", flat=True)) == [
        datetime(2024, 3, 1, 9, 0, tzinfo=UTC), datetime(2024, 3, 1, 9, 1, tzinfo=UTC)]
