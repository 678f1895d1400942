"""The home page's growth and the segment stats, read from the counted members'
and the history's moves indexes."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from segments.models import MembershipChange
from segments.selectors import segment_stats, segments_growing
from segments.services import (
    segment_create,
    segment_members_add,
    segment_members_remove,
    segment_test_user_add,
)
from tests.factories import CustomerFactory


def static(name, actor):
    return segment_create(name=name, type="static", actor=actor)


def test_segments_growing__joins_leaves_tests_and_old_changes__net_of_the_week(
    actor,
):
    # Given A: 3 joins and 1 leave this week; B: 1 join; C: a join and its leave;
    # D: only a test user; E: joins 8 days ago
    a, b, c, d, e = (static(name, actor) for name in "ABCDE")
    customers = CustomerFactory.create_batch(3)
    segment_members_add(segment=a, customers=customers, actor=actor)
    segment_members_remove(segment=a, customers=customers[:1], actor=actor)
    segment_members_add(segment=b, customers=customers[:1], actor=actor)
    segment_members_add(segment=c, customers=customers[:1], actor=actor)
    segment_members_remove(segment=c, customers=customers[:1], actor=actor)
    segment_test_user_add(segment=d, customer=customers[0], actor=actor)
    segment_members_add(segment=e, customers=customers, actor=actor)
    MembershipChange.objects.filter(segment=e).update(
        occurred_at=timezone.now() - timedelta(days=8)
    )

    growth = segments_growing()

    assert [(g.segment, g.joins, g.leaves, g.net) for g in growth] == [
        (a, 3, 1, 2),
        (b, 1, 0, 1),
    ]


def test_segment_stats__joins_leaves_and_test_users__totals_and_today(actor):
    segment = static("A", actor)
    customers = CustomerFactory.create_batch(3)
    segment_members_add(segment=segment, customers=customers, actor=actor)
    segment_members_remove(segment=segment, customers=customers[:1], actor=actor)
    segment_test_user_add(segment=segment, customer=CustomerFactory(), actor=actor)

    stats = segment_stats(segment=segment)

    today = stats.daily[-1]
    assert (stats.total, stats.new_this_week, stats.new_this_month) == (2, 2, 2)
    assert (today.joins, today.leaves, today.total) == (3, 1, 2)
    assert stats.daily[-2].total == 0


def test_segment_page__members_field__shows_the_stats_total(alice, actor):
    segment = static("A", actor)
    segment_members_add(
        segment=segment, customers=CustomerFactory.create_batch(2), actor=actor
    )
    segment_test_user_add(segment=segment, customer=CustomerFactory(), actor=actor)

    response = alice.get(reverse("admin:segments_segment_change", args=[segment.pk]))

    members = reverse("admin:segments_membership_changelist")
    assert f'{members}?segment__id__exact={segment.pk}">2</a>' in response.text
    assert response.context["stats"].total == 2
