"""The OData client against the sandbox: keys, paging by nextLink, 499, single entities, filters."""

import pytest
import requests

from integrations.errors import AuthError, PermanentError
from integrations.perfectgym import sandbox_odata
from integrations.perfectgym.client import BusinessError, PerfectGymClient
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PerfectGymSandbox
from tests.integrations.perfectgym.conftest import PG_URL

KEYS = {"X-Client-Id": CLIENT_ID, "X-Client-Secret": CLIENT_SECRET}


@pytest.fixture
def api(sandbox):
    return PerfectGymClient(base_url=PG_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            sleep=lambda s: None)


@pytest.fixture
def big_sandbox():

    from integrations.sandbox.transports import mounted

    fake = PerfectGymSandbox(members=1200, seed=5, base_url=PG_URL)
    with mounted((fake, PG_URL)):
        yield fake


def test_both_key_headers_are_sent_and_required(sandbox, api):
    assert api.rows("Clubs")
    assert all(c.header("X-Client-Id") == CLIENT_ID and c.header("X-Client-Secret") == CLIENT_SECRET
               for c in sandbox.calls)
    for headers in ({}, {"X-Client-Id": CLIENT_ID}, {"X-Client-Secret": CLIENT_SECRET}):
        answer = requests.get(PG_URL + "odata/Clubs", headers=headers, timeout=5)
        assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == "Unauthorized"
    wrong = PerfectGymClient(base_url=PG_URL, client_id=CLIENT_ID, client_secret="not-it")
    with pytest.raises(AuthError) as raised:
        wrong.rows("Clubs")
    assert "not-it" not in str(raised.value)


def test_default_page_is_500_and_next_links_are_followed(big_sandbox):
    api = PerfectGymClient(base_url=PG_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    pages = list(api.changes("Members", after=None))
    assert [len(p.rows) for p in pages] == [500, 500, 200]
    assert all(p.next_link.startswith(PG_URL + "odata/Members?") for p in pages[:2])
    assert pages[2].next_link is None
    versions = [r.version for p in pages for r in p.rows]
    assert versions == sorted(versions) and len(set(r.id for p in pages for r in p.rows)) == 1200
    assert pages[0].count == 1200


def test_changes_start_after_the_cursor_and_include_deleted_rows(sandbox, api):
    cursor = max(m["version"] for m in sandbox.sets["Members"].rows.values())
    assert [p.rows for p in api.changes("Members", after=cursor)] == [[]]
    sandbox.member_delete(4)
    sandbox.member_put(6, lastName="Moved")
    rows = [r for p in api.changes("Members", after=cursor) for r in p.rows]
    assert [(r.id, r.deleted) for r in rows] == [(4, True), (6, False)]
    assert rows[0].version > cursor and rows[1].version > rows[0].version


def test_a_single_entity_by_key_in_either_form(sandbox, api):
    assert api.entity("Members", 5).email == "member5@pg.example"
    both = [requests.get(PG_URL + path, headers=KEYS, timeout=5).json() for path in
            ("odata/Members(5)", "odata/Members/5")]
    assert both[0] == both[1] and both[0]["id"] == 5
    assert api.entity("Members", 99999) is None


def test_the_499_envelope_becomes_a_business_error(sandbox, api):
    answer = requests.get(PG_URL + "odata/Members/99999", headers=KEYS, timeout=5)
    assert answer.status_code == 499
    assert answer.json()["errors"][0]["code"] == "MemberNotFound"
    with pytest.raises(BusinessError) as raised:
        api._verify("MemberAuth/VerifyMemberCredentials", {"nothing": "here"})
    assert raised.value.code == "ValidationError" and isinstance(raised.value, PermanentError)


def test_by_ids_asks_for_a_few_dozen_ids_per_call(sandbox, api, monkeypatch):
    monkeypatch.setattr("integrations.perfectgym.client.IDS_PER_QUERY", 15)
    rows = api.by_ids("Members", range(1, 41))
    assert sorted(r.id for r in rows) == list(range(1, 41))
    assert len([c for c in sandbox.calls if c.path == "odata/Members"]) == 3


def odata(sandbox, query, entity_set="Members"):
    answer = requests.get(PG_URL + f"odata/{entity_set}", params=query, headers=KEYS, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_filter_operators_fields_and_dates(sandbox):
    members = list(sandbox.sets["Members"].rows.values())

    def ids(text):
        return sorted(r["id"] for r in odata(sandbox, {"$filter": text})["value"])

    assert ids("homeClubId eq 2") == sorted(m["id"] for m in members if m["homeClubId"] == 2)
    assert ids("homeClubId ne 1 and id le 10") == [
        m["id"] for m in members if m["homeClubId"] != 1 and m["id"] <= 10]
    assert ids("id gt 35 or id lt 3") == [1, 2, 36, 37, 38, 39, 40]
    assert ids("(id ge 5 and id lt 8) or lastName eq 'Nobody'") == [5, 6, 7]
    assert ids("not (id ge 3)") == [1, 2]
    assert ids("email eq 'member7@pg.example'") == [7]
    cut = sorted(m["createdDate"] for m in members)[20]
    expected = sorted(m["id"] for m in members if m["createdDate"] >= cut)
    assert ids(f"createdDate ge {cut}") == expected
    assert ids(f"createdDate ge '{cut}'") == expected
    assert ids("isActive eq false") == sorted(m["id"] for m in members if not m["isActive"])


def test_orderby_top_skip_count_and_select(sandbox):
    body = odata(sandbox, {"$orderby": "id desc", "$top": "3", "$skip": "2", "$count": "true",
                           "$select": "id,lastName"})
    rows = sandbox.sets["Members"].rows
    assert body["value"] == [{"id": i, "lastName": rows[i]["lastName"]} for i in (38, 37, 36)]
    assert body["@odata.count"] == 40 and "@odata.nextLink" not in body
    newest = odata(sandbox, {"$orderby": "version desc", "$top": "1"}, "Contracts")["value"][0]
    assert newest["version"] == max(c["version"] for c in sandbox.sets["Contracts"].rows.values())


def test_top_above_the_page_size_pages_with_skip(sandbox, monkeypatch):
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 15)
    first = odata(sandbox, {"$orderby": "lastName", "$top": "20"})
    assert len(first["value"]) == 15
    second = requests.get(first["@odata.nextLink"], headers=KEYS, timeout=5).json()
    assert len(second["value"]) == 5 and "@odata.nextLink" not in second
    by_name = sorted(sandbox.sets["Members"].rows.values(), key=lambda m: m["lastName"])  # ties: by id
    assert [m["id"] for m in first["value"] + second["value"]] == [m["id"] for m in by_name[:20]]


def test_a_filter_it_cannot_read_is_a_400(sandbox):
    answer = requests.get(PG_URL + "odata/Members", params={"$filter": "id eq"}, headers=KEYS, timeout=5)
    assert answer.status_code == 400


def test_versions_rise_globally_and_not_by_one(sandbox):
    versions = sorted(r["version"] for s in sandbox.sets.values() for r in s.rows.values())
    assert len(set(versions)) == len(versions)
    assert {later - earlier for earlier, later in zip(versions, versions[1:], strict=False)} - {1}
    a, b = sandbox.member_put(1, lastName="A"), sandbox.contract_put(1, status="Ended")
    assert versions[-1] < a["version"] < b["version"]


def test_pages_read_ahead_come_in_order_and_a_failed_one_fails_in_its_place(big_sandbox, monkeypatch):
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 100)
    api = PerfectGymClient(base_url=PG_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                           sleep=lambda s: None)
    first_ids = [[r.id for r in p.rows] for p in api.changes("Members", after=None, ahead=8)]
    assert [len(ids) for ids in first_ids] == [100] * 12 and sorted(sum(first_ids, [])) == list(range(1, 1201))
    big_sandbox.inject(status=499, path="odata/Members", skip=4)  # the fifth call fails
    got = []
    with pytest.raises(BusinessError):
        for page in api.changes("Members", after=None, ahead=8):
            got.append([r.id for r in page.rows])
    assert got == first_ids[:4]


def test_seeded_rows_read_like_stored_ones_and_a_change_replaces_them(sandbox):
    members = sandbox.sets["Members"]
    before = members.rows[7]
    assert members.rows[7] == before and len(members.rows) == 40 and list(members.rows)[:3] == [1, 2, 3]
    changed = sandbox.member_put(7, lastName="Changed")
    assert [r for r in members.after(None) if r["id"] == 7] == [changed]  # the seeded entry is stale
    assert members.rows[7] == changed and {**changed, "lastName": "x", "version": 0} == {
        **before, "lastName": "x", "version": 0}
    new = sandbox.member_put(firstName="Newest")
    assert new["id"] == 41 and len(members.rows) == 41 and 41 in members.rows and 42 not in members.rows
    assert list(members.rows)[-1] == 41 and members.rows[41]["firstName"] == "Newest"
