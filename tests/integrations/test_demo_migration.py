"""The migration marking the demo's integrations: those an earlier `make demo` made (its
name, a sandbox on loopback) become the demo's; an operator's stay theirs."""

import pytest

from tests.integrations.helpers import migrate

BEFORE = [("integrations", "0009_outbox_roles")]
AFTER = [("integrations", "0010_integration_is_demo")]


@pytest.mark.django_db(transaction=True)
def test_an_earlier_demos_integrations_are_marked_and_the_operators_are_not():
    old = migrate(BEFORE)
    integration_model = old.get_model("integrations", "Integration")
    for name, url in [("Perfect Gym (sandbox)", "http://127.0.0.1:8102/"), ("Kisi (sandbox)", "http://127.0.0.1:8101/"),
                      ("Leeds (sandbox)", "https://leeds.perfectgym.com/Api/v2.2/"),
                      ("Perfect Gym Leeds", "http://127.0.0.1:9000/")]:
        integration_model.objects.create(kind="perfectgym", name=name, settings={"base_url": url})
    new = migrate(AFTER)
    marked = dict(new.get_model("integrations", "Integration").objects.values_list("name", "is_demo"))
    assert marked == {"Perfect Gym (sandbox)": True, "Kisi (sandbox)": True, "Leeds (sandbox)": False,
                      "Perfect Gym Leeds": False}
