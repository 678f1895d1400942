"""The segment page around its form: stats, the chart, history, campaigns, members'
links and the one-step test user; and the views its buttons post to."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from segments.models import Membership, Segment
from segments.selectors import segment_history, segment_stats
from segments.services import Actor
from segments.services.event_segments import segment_backfill
from segments.services.test_users import segment_test_user_add_by_user

from .charts import daily_chart

HISTORY_ROWS = 15


def _url_or_none(name: str, *args) -> str | None:
    """The CSV import/export pages come from another part of the admin: the buttons
    show once those pages exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _members_url(segment: Segment, **filters: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    base = reverse("admin:segments_membership_changelist")
    return f"{base}?segment__id__exact={segment.pk}&{query}"


def segment_page_context(segment: Segment) -> dict:
    stats = segment_stats(segment=segment)
    overrides = Membership.objects.filter(segment=segment).exclude(
        override=Membership.Override.NONE
    )
    return {
        "stats": stats,
        "chart": daily_chart(stats.daily),
        "test_user_count": overrides.filter(is_test=True).count(),
        "blocked_count": overrides.filter(override=Membership.Override.BLOCK).count(),
        "history": list(segment_history(segment=segment)[:HISTORY_ROWS]),
        "history_url": reverse("admin:segments_membershipchange_changelist")
        + f"?segment__id__exact={segment.pk}",
        "campaigns": list(segment.campaigns.order_by("name")),
        "members_url": _members_url(segment, status="member"),
        "test_users_url": _members_url(segment, status="test"),
        "blocked_url": _members_url(segment, status="blocked"),
        "import_url": _url_or_none("admin:segments_segment_import_members", segment.pk),
        "export_url": _url_or_none("admin:segments_segment_export_members", segment.pk),
        "test_user_url": reverse("admin:segments_segment_test_user", args=[segment.pk]),
        "backfill_url": reverse("admin:segments_segment_backfill", args=[segment.pk])
        if segment.type == Segment.Type.EVENT
        else None,
    }


@require_POST
def test_user_add_view(request, segment_id):
    """Add a test user by id or email (created if unknown), then back to the page."""
    segment = get_object_or_404(Segment, pk=segment_id)
    back = reverse("admin:segments_segment_change", args=[segment.pk])
    try:
        result = segment_test_user_add_by_user(
            segment=segment,
            user=request.POST.get("user", ""),
            actor=Actor.admin(request.user),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(back)
    made = " (a new customer)" if result.created else ""
    if result.changed:
        messages.success(request, f"{result.customer}{made} is now a test user.")
    else:
        messages.warning(request, f"{result.customer} is already a test user here.")
    return HttpResponseRedirect(back)


class BackfillForm(forms.Form):
    days = forms.IntegerField(required=False, min_value=1, max_value=Segment.MAX_DAYS)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@require_POST
def backfill_view(request, segment_id):
    """Let in the customers past trigger events would have let in (what the
    preview counts), say how many entered, then back to the page."""
    segment = get_object_or_404(Segment, pk=segment_id)
    back = reverse("admin:segments_segment_change", args=[segment.pk])
    form = BackfillForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Days: {' '.join(form.errors['days'])}")
        return HttpResponseRedirect(back)
    try:
        result = segment_backfill(
            segment=segment,
            actor=Actor.admin(request.user),
            days=form.cleaned_data["days"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(back)
    messages.success(
        request,
        f"Backfill: {_plural(result.entered, 'customer', 'customers')} entered "
        f'({result.candidates} did "{segment.trigger_event}" and match now; '
        f"{result.already_members} already members; "
        f"{result.blocked} blocked, left out).",
    )
    return HttpResponseRedirect(back)
