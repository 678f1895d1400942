"""Segments with the figures their list shows, computed for the rows of one page."""

from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from segments.models import Membership, Segment


def count_per_segment(rows: QuerySet) -> Coalesce:
    """A correlated count: the database runs it for each row it returns (a page),
    on the (segment, ...) indexes, never over the whole table."""
    counted = (
        rows.filter(segment=OuterRef("pk"))
        .order_by()
        .values("segment")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def segments_with_figures(
    segments: QuerySet[Segment], *, now: datetime | None = None
) -> QuerySet[Segment]:
    """Annotates `member_count` (test users and blocks left out, as in the stats),
    `new_week`, `new_month` (joined in the last 7 / 30 days) and `campaign_count`."""
    now = now or timezone.now()
    counted = Membership.objects.counted()
    audiences = Segment.campaigns.through.objects.all()
    return segments.annotate(
        member_count=count_per_segment(counted),
        new_week=count_per_segment(
            counted.filter(joined_at__gte=now - timedelta(days=7))
        ),
        new_month=count_per_segment(
            counted.filter(joined_at__gte=now - timedelta(days=30))
        ),
        campaign_count=count_per_segment(audiences),
    )
