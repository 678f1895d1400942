"""The segment page: stats, chart, history, campaigns, test users, why; the members
list with blocked customers apart."""

from django.urls import reverse

from campaigns.services import campaign_create
from segments.models import Customer, Membership, MembershipChange
from segments.selectors import segment_stats
from segments.services import (
    segment_members_add,
    segment_override_set,
    segment_test_user_add,
)
from tests.admin_support import count_queries, messages
from tests.factories import CustomerFactory


def page_url(segment):
    return reverse("admin:segments_segment_change", args=[segment.pk])


def add_test_user_url(segment):
    return reverse("admin:segments_segment_test_user", args=[segment.pk])


def test_segment_page__members_test_user_block__stats_chart_history(
    alice, static_segment, actor
):
    # Given two members, a test user, a blocked customer and a campaign using it
    segment_members_add(
        segment=static_segment, customers=CustomerFactory.create_batch(2), actor=actor
    )
    segment_test_user_add(
        segment=static_segment, customer=CustomerFactory(), actor=actor
    )
    segment_override_set(
        segment=static_segment,
        customer=CustomerFactory(),
        user_status="block",
        actor=actor,
    )
    campaign_create(name="Spring", actor=actor, segments=[static_segment])

    response = alice.get(page_url(static_segment))

    context = response.context
    assert context["stats"] == segment_stats(segment=static_segment)
    assert (context["stats"].total, context["stats"].new_this_week) == (2, 2)
    assert (context["test_user_count"], context["blocked_count"]) == (1, 1)
    assert [c.name for c in context["campaigns"]] == ["Spring"]
    assert len(context["history"]) == 4
    chart = context["chart"]
    assert chart["bars"][-1].title.endswith("+2 / -0, 2 members")
    # The scales are written: the size from 0 to its peak, the moves up to theirs.
    assert [label.text for label in chart["labels"][:4]] == ["2", "0", "+2", "-2"]
    assert 'role="img"' in response.text
    assert "Membership history" in response.text


def test_segment_page__1000_members__same_queries_as_10(alice, static_segment, actor):
    segment_members_add(
        segment=static_segment, customers=CustomerFactory.create_batch(10), actor=actor
    )
    few = count_queries(alice, page_url(static_segment))

    segment_members_add(
        segment=static_segment,
        customers=CustomerFactory.create_batch(990),
        actor=actor,
    )

    assert count_queries(alice, page_url(static_segment)) == few


def test_test_user_add__unknown_email__customer_created_then_back_to_segment(
    alice, static_segment
):
    response = alice.post(
        add_test_user_url(static_segment), {"user": "new@example.com"}
    )

    assert response.url == page_url(static_segment)
    customer = Customer.objects.get(email="new@example.com")
    row = Membership.objects.get(segment=static_segment, customer=customer)
    assert (row.is_test, row.override) == (True, "add")
    change = MembershipChange.objects.get(segment=static_segment, customer=customer)
    assert (change.actor_label, change.is_test) == ("admin: alice", True)
    assert "(a new customer) is now a test user" in messages(alice.get(response.url))[0]


def test_test_user_add__known_id_twice__one_membership_and_warning(
    alice, static_segment, customer
):
    alice.post(add_test_user_url(static_segment), {"user": customer.external_id})
    response = alice.post(
        add_test_user_url(static_segment), {"user": customer.external_id}, follow=True
    )

    assert Membership.objects.filter(segment=static_segment, is_test=True).count() == 1
    assert Customer.objects.count() == 1
    assert "already a test user" in messages(response)[-1]


def test_test_user_add__blank__error_and_nothing_written(alice, static_segment):
    response = alice.post(
        add_test_user_url(static_segment), {"user": "  "}, follow=True
    )

    assert "Give the customer's id or email." in messages(response)
    assert not Customer.objects.exists()
    assert not Membership.objects.exists()


def test_why_page__member__tree_with_values(alice, rule_segment, customer):
    url = reverse("admin:segments_segment_why", args=[rule_segment.pk, customer.pk])

    response = alice.get(url)

    assert response.context["explanation"].rules_match is True
    assert "their value: <code>&quot;Facebook&quot;</code>" in response.text


def test_members_list__status_filter__blocked_apart_from_members(
    alice, static_segment, actor
):
    member, blocked = CustomerFactory.create_batch(2)
    segment_members_add(segment=static_segment, customers=[member], actor=actor)
    segment_override_set(
        segment=static_segment, customer=blocked, user_status="block", actor=actor
    )
    url = reverse("admin:segments_membership_changelist")

    def listed(status):
        response = alice.get(url, {"status": status})
        return [row.customer for row in response.context["cl"].result_list]

    assert listed("member") == [member]
    assert listed("blocked") == [blocked]


def test_membership_add__saved__back_to_its_segment(alice, static_segment, customer):
    response = alice.post(
        reverse("admin:segments_membership_add"),
        {"segment": static_segment.pk, "customer": customer.pk, "user_status": "test"},
    )

    assert response.url == page_url(static_segment)


def test_segment_page__import_export__buttons_to_the_csv_pages(alice, static_segment):
    response = alice.get(page_url(static_segment))

    for name in ("import_members", "export_members"):
        url = reverse(f"admin:segments_segment_{name}", args=[static_segment.pk])
        assert f'href="{url}"' in response.text
