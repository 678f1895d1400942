"""Counts of big lists: exact while small, estimated and labelled "about" past
EXACT_UP_TO on PostgreSQL; the admin's lists page on without counting exactly."""

import pytest
from django.db import connection
from django.urls import reverse

from segments.admin.lists import EstimatingPaginator
from segments.models import Customer
from segments.selectors import Estimate, count_estimated
from segments.selectors import counts as counts_module
from tests.factories import CustomerFactory
from tests.markers import postgres_pass

CUSTOMERS = reverse("admin:segments_customer_changelist")


@pytest.fixture
def small_threshold(monkeypatch):
    # Past 3 rows a count is estimated (PostgreSQL).
    monkeypatch.setattr(counts_module, "EXACT_UP_TO", 3)


def test_estimate__shown__reads_about_and_calculates_as_int():
    estimate = Estimate(1234567)

    assert str(estimate) == f"{estimate}" == "about 1,234,567"
    assert estimate + 1 == 1234568
    assert estimate > 1000


def test_count_estimated__up_to_the_threshold__exact(db, small_threshold):
    CustomerFactory.create_batch(3)

    count = count_estimated(Customer.objects.all())

    assert count == 3
    assert not isinstance(count, Estimate)


@postgres_pass
def test_count_estimated__past_the_threshold__estimate_never_below_rows_seen(
    db, small_threshold
):
    CustomerFactory.create_batch(6)

    count = count_estimated(Customer.objects.all())

    assert isinstance(count, Estimate)
    assert count >= 4  # the 4 rows read before stopping at least


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's way")
def test_count_estimated__sqlite__always_exact(db, small_threshold):
    CustomerFactory.create_batch(6)

    count = count_estimated(Customer.objects.all())

    assert count == 6
    assert not isinstance(count, Estimate)


@postgres_pass
def test_customer_changelist__past_the_threshold__about_n_customers(
    alice, small_threshold
):
    CustomerFactory.create_batch(6)

    response = alice.get(CUSTOMERS)

    assert isinstance(response.context["cl"].result_count, Estimate)
    assert f"about {response.context['cl'].result_count:,}" in response.text
    assert len(response.context["cl"].result_list) == 6


@postgres_pass
def test_index__many_customers__count_labelled_about(alice, small_threshold):
    CustomerFactory.create_batch(6)

    response = alice.get(reverse("admin:index"))

    customers = response.context["counts"]["customers"]
    assert isinstance(customers, Estimate)
    assert f"about {int(customers):,}</span> customers" in response.text


@postgres_pass
def test_estimating_paginator__estimate_off__every_page_served(db, small_threshold):
    customers = CustomerFactory.create_batch(6)

    paginator = EstimatingPaginator(Customer.objects.order_by("pk"), per_page=2)

    assert paginator.estimated
    assert list(paginator.page(3).object_list) == customers[4:]
    assert list(paginator.page(paginator.num_pages + 5).object_list) == []


def test_estimating_paginator__small_list__exact_pages(db):
    CustomerFactory.create_batch(5)

    paginator = EstimatingPaginator(Customer.objects.order_by("pk"), per_page=2)

    assert (paginator.count, paginator.num_pages, paginator.estimated) == (5, 3, False)
    assert len(paginator.page(3).object_list) == 1
