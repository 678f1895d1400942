"""A customer's attributes as a table on their page: read, add, edit, remove rows,
saved through customer_upsert; a bad value is an error at its row."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from segments.models import Customer, Membership, MembershipChange
from segments.services.compute import segment_recompute
from tests.admin_support import attribute_rows, errors
from tests.factories import CustomerFactory, UserFactory


def page(customer):
    return reverse("admin:segments_customer_change", args=[customer.pk])


def profile(customer, *rows, initial=0):
    fields = ("email", "phone", "first_name", "last_name")
    data = {f: getattr(customer, f) for f in fields}
    return {**data, **attribute_rows(*rows, initial=initial)}


def test_customer_page__attributes__rows_with_name_value_and_type(alice):
    customer = CustomerFactory(
        attributes={
            "channel": "Facebook",
            "reward": 80,
            "vip": True,
            "joined": "2025-01-31",
            "tags": ["a", "b"],
        }
    )

    response = alice.get(page(customer))

    rows = response.context["adminform"].form.attribute_rows
    assert [
        (f.initial["key"], f.initial["value"], f.initial["type"])
        for f in rows.initial_forms
    ] == [
        ("channel", "Facebook", "text"),
        ("joined", "2025-01-31", "date"),
        ("reward", "80", "number"),
        ("tags", '["a", "b"]', "json"),
        ("vip", "true", "boolean"),
    ]
    assert 'aria-label="Attribute 3 value"' in response.text
    assert 'name="attributes"' not in response.text  # no JSON textbox


def test_customer_change__rows_edited_added_removed__saved_with_history(
    alice, rule_segment
):
    # Given a Facebook customer, a member of the "channel is Facebook" segment
    customer = CustomerFactory(attributes={"channel": "Facebook", "plan": "free"})
    segment_recompute(segment=rule_segment)
    assert Membership.objects.filter(segment=rule_segment).count() == 1

    # When alice removes the channel, changes the plan and adds a number and a date
    response = alice.post(
        page(customer),
        profile(
            customer,
            ("channel", "Facebook", "text", "remove"),
            ("plan", "pro", "text"),
            ("reward", "62.5", "number"),
            ("renewal", "2026-03-01", "date"),
            initial=2,
        ),
    )

    # Then the attributes are the rows kept, typed
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.attributes == {
        "plan": "pro",
        "reward": 62.5,
        "renewal": "2026-03-01",
    }
    # And the service re-evaluated her segments: she left, and the history says so
    assert not Membership.objects.filter(segment=rule_segment).exists()
    change = MembershipChange.objects.filter(segment=rule_segment).latest("pk")
    assert (change.customer, change.action) == (customer, "left")


def test_customer_add__rows__created_with_typed_attributes(alice):
    response = alice.post(
        reverse("admin:segments_customer_add"),
        {
            "external_id": "new-1",
            **attribute_rows(
                ("vip", "TRUE", "boolean"),
                ("tags", '["a"]', "json"),
                ("", "", "text"),  # the blank row the page offers
            ),
        },
    )

    assert response.status_code == 302
    customer = Customer.objects.get(external_id="new-1")
    assert customer.attributes == {"vip": True, "tags": ["a"]}


@pytest.mark.parametrize(
    "row, field, message",
    [
        (("reward", "lots", "number"), "value", "Enter a number"),
        (("reward", "nan", "number"), "value", "Enter a number"),
        (("vip", "maybe", "boolean"), "value", "Enter true or false."),
        (("joined", "2025-02-31", "date"), "value", "Enter a date"),
        (("tags", "[a, b", "json"), "value", "Enter a list or an object"),
        (("tags", "null", "json"), "value", "Enter a list or an object"),
        (("", "Oslo", "text"), "key", "Give the attribute a name."),
        (("plan", "pro", "text"), "key", 'Another row already names "plan".'),
    ],
)
def test_customer_change__bad_row__error_at_that_row_nothing_saved(
    alice, row, field, message
):
    customer = CustomerFactory(first_name="Ann", attributes={"plan": "free"})

    response = alice.post(
        page(customer),
        {
            **profile(customer, ("plan", "free", "text"), row, initial=1),
            "first_name": "Changed",
        },
    )

    assert errors(response)["__all__"] == ["Fix the attributes marked below."]
    rows = response.context["adminform"].form.attribute_rows
    assert rows.forms[0].errors == {}
    assert message in rows.forms[1].errors[field][0]
    assert message in response.text.replace("&quot;", '"')
    customer.refresh_from_db()
    assert (customer.first_name, customer.attributes) == ("Ann", {"plan": "free"})


def test_customer_change__removed_row_with_bad_value__ignored(alice):
    customer = CustomerFactory(attributes={"plan": "free", "reward": 5})

    response = alice.post(
        page(customer),
        profile(
            customer,
            ("plan", "free", "text"),
            ("reward", "oops", "number", "remove"),
            initial=2,
        ),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.attributes == {"plan": "free"}


def test_customer_page__marketer__attributes_read_only_table(client, customer):
    marketer = UserFactory(username="mia", is_superuser=False)
    marketer.groups.add(Group.objects.get(name="Marketers"))
    client.force_login(marketer)

    response = client.get(page(customer))

    assert response.status_code == 200
    assert '<table aria-labelledby="attributes-heading">' in response.text
    assert (
        "<td>channel</td><td><code>Facebook</code></td><td>text</td>" in response.text
    )
    assert "attributes-TOTAL_FORMS" not in response.text
