"""The customers' search box: exact id or email first, then words in the id, email,
names or phone, and key:value for attributes; on PostgreSQL through indexes."""

import pytest
from django.db import connection
from django.urls import reverse

from segments.models import Customer
from segments.selectors import SEARCH_HELP, customers_search
from segments.services import segment_members_add
from tests.factories import CustomerFactory
from tests.markers import postgres_pass

CUSTOMERS = reverse("admin:segments_customer_changelist")


def search(term):
    return set(customers_search(customers=Customer.objects.all(), term=term))


@pytest.fixture
def ann(db):
    return CustomerFactory(
        external_id="crm-1",
        email="ann@example.com",
        first_name="Annabel",
        last_name="Smithson",
        phone="+44 20 7946 0001",
        attributes={"channel": "Facebook", "spend": 42, "vip": True},
    )


@pytest.fixture
def bob(db):
    return CustomerFactory(
        external_id="crm-10",
        email="bob@example.org",
        first_name="Bob",
        last_name="Jonesworth",
        attributes={
            "channel": "Google",
            "spend": "42",
            "address": {"city": "New York"},
        },
    )


def test_customers_search__part_of_a_name__found_whatever_the_case(ann, bob):
    assert search("mithso") == {ann}
    assert search("ANNA") == {ann}
    assert search("esworth") == {bob}


def test_customers_search__several_words__each_must_match(ann, bob):
    assert search("annabel smith") == {ann}
    assert search("annabel jones") == set()


def test_customers_search__part_of_email_id_or_phone__found(ann, bob):
    assert search("example.org") == {bob}
    assert search("crm-") == {ann, bob}
    assert search("7946") == {ann}


def test_customers_search__exact_id_or_email__only_that_customer(ann, bob):
    # "crm-1" is also part of "crm-10": the exact id wins.
    assert search("crm-1") == {ann}
    assert search("BOB@example.org") == {bob}
    assert search(str(bob.pk)) == {bob}


def test_customers_search__key_value__found_by_attribute_value(ann, bob):
    assert search("channel:Facebook") == {ann}
    assert search("channel:facebook") == set()  # values match exactly
    assert search("vip:true") == {ann}
    assert search('address.city:"New York"') == {bob}
    assert search("address.city:Boston") == set()


def test_customers_search__number_value__matches_number_and_text(ann, bob):
    # ann's spend is the number 42, bob's the text "42"
    assert search("spend:42") == {ann, bob}


def test_customers_search__key_value_with_a_word__both_must_match(ann, bob):
    assert search("spend:42 jones") == {bob}


@pytest.mark.parametrize(
    "term",
    [
        "ann\x00",
        "spend:NaN",
        "spend:1e999",
        "spend:99999999999999999999999",
        "100%",
        "a_b",
        '"unclosed',
        "key:",
        ":value",
        "x" * 500,
        "9999999999999999999999",
    ],
)
def test_customer_changelist__odd_terms__answered_not_a_500(alice, ann, term):
    response = alice.get(CUSTOMERS, {"q": term})

    assert response.status_code == 200


def test_customer_changelist__search__uses_the_selector_and_explains_syntax(
    alice, ann, bob
):
    response = alice.get(CUSTOMERS, {"q": "channel:Google"})

    assert list(response.context["cl"].result_list) == [bob]
    assert "key:value" in SEARCH_HELP
    assert "channel:Facebook" in response.text  # the help text under the box


def explain(queryset):
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        # On a few rows a scan is cheaper: ask whether the GIN index *can* serve
        # the filter (GIN is read by bitmap scans only; no btree walk either).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres_pass
def test_customers_search__postgresql__words_use_the_trigram_index(ann, bob):
    plan = explain(customers_search(customers=Customer.objects.all(), term="mithso"))

    assert "customer_search_trgm" in plan


@postgres_pass
def test_customers_search__postgresql__key_value_uses_the_attributes_index(ann):
    found = customers_search(customers=Customer.objects.all(), term="spend:42")

    assert "customer_attributes_gin" in explain(found)


def test_member_and_history_lists__search__one_customer_by_exact_id_or_email(
    alice, ann, bob, static_segment, actor
):
    segment_members_add(segment=static_segment, customers=[ann, bob], actor=actor)
    members = reverse("admin:segments_membership_changelist")
    history = reverse("admin:segments_membershipchange_changelist")

    by_email = alice.get(members, {"q": "ANN@example.com"})
    by_id = alice.get(history, {"q": "crm-1"})  # not crm-10 as well
    by_part = alice.get(members, {"q": "example"})

    assert [m.customer for m in by_email.context["cl"].result_list] == [ann]
    assert [c.customer for c in by_id.context["cl"].result_list] == [ann]
    assert list(by_part.context["cl"].result_list) == []
