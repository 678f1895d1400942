import json
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from segments.models import Condition, Segment
from segments.rules import RuleSpec, rule_to_dict
from segments.selectors import (
    condition_label,
    rule_catalog,
    segment_preview,
    segment_rule_spec,
    segments_with_figures,
)
from segments.services import Actor, segment_create, segment_delete, segment_update
from segments.services.compute import segment_compute_request

from .base import JSONTextField, ReadOnlyAdmin, ServiceAdmin, ServiceForm, fresh
from .imports import SegmentImportMixin
from .segment_page import backfill_view, segment_page_context, test_user_add_view
from .why import why_view

FIELDS = (
    "name",
    "type",
    "trigger_event",
    "exit_after_days",
    "description",
    "archived",
    "rules",
)
UPDATABLE_FIELDS = (
    "name",
    "trigger_event",
    "exit_after_days",
    "description",
    "archived",
)
# What does not apply to a type is not shown: a static segment has no rules, no
# trigger and no computation; only event-triggered members expire.
HIDDEN_FIELDS = {
    Segment.Type.STATIC: {
        "trigger_event",
        "exit_after_days",
        "rules",
        "computation",
        "rule_tree",
    },
    Segment.Type.RULE: {"trigger_event", "exit_after_days"},
    Segment.Type.EVENT: {"computation"},
}
READONLY_FIELDS = (
    "computation",
    "rule_tree",
    "members",
    "add_member",
    "created_by",
    "created_at",
    "updated_at",
)
RULES_HELP = (
    'Rule and event segments: {"match": "all", "conditions": [{"field": '
    '"attributes.channel", "operator": "equals", "value": "Facebook"}], "rules": []}. '
    'Groups nest in "rules"; "match" is all, any or none.'
)


class SegmentForm(ServiceForm):
    rules = JSONTextField(required=False, help_text=RULES_HELP)
    exit_after_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=Segment.MAX_DAYS,
        label="Members leave after (days)",
        help_text="Members leave this many days after they entered; "
        "empty: they stay until removed.",
    )

    class Meta:
        model = Segment
        fields = FIELDS[:-1]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            spec = segment_rule_spec(segment=self.instance)
            self.initial["rules"] = rule_to_dict(spec) if spec else None

    def clean(self):
        data = super().clean()
        # Shown for event-triggered segments only: a value left in the hidden input
        # after switching the type away from "event" is not the marketer's intent.
        kind = data.get("type") or self.instance.type
        if kind != Segment.Type.EVENT and "exit_after_days" in data:
            data["exit_after_days"] = None
        return data


def rule_tree_html(spec: RuleSpec) -> str:
    conditions = ((condition_label(c),) for c in spec.conditions)
    groups = ((rule_tree_html(rule),) for rule in spec.rules)
    return format_html(
        "{} of:<ul>{}{}</ul>",
        spec.match.upper(),
        format_html_join("", "<li><code>{}</code></li>", conditions),
        format_html_join("", "<li>{}</li>", groups),
    )


def computation_html(segment: Segment) -> str:
    if segment.type != Segment.Type.RULE:
        return "-"
    State = Segment.ComputeState
    when = f"{timesince(segment.computed_at)} ago" if segment.computed_at else "never"
    if segment.compute_state == State.FAILED:
        return format_html(
            '<strong style="color:var(--error-fg)">Failed</strong> '
            "(attempt {}; retried automatically): {}<br>Last computed: {}",
            segment.compute_attempts,
            segment.compute_error,
            when,
        )
    if segment.compute_state in (State.QUEUED, State.RUNNING):
        return format_html(
            "<strong>{}</strong> &middot; last computed: {}",
            segment.get_compute_state_display(),
            when,
        )
    return format_html("Up to date &middot; last computed: {}", when)


@admin.register(Segment)
class SegmentAdmin(SegmentImportMixin, ServiceAdmin):
    form = SegmentForm
    list_display = (
        "name",
        "type",
        "members",
        "new_this_week",
        "new_this_month",
        "campaigns_using",
        "computation",
        "archived",
    )
    list_filter = ("type", "archived", "compute_state", "campaigns")
    search_fields = ("name", "description")
    search_help_text = "A segment's name or description."
    list_select_related = ("created_by",)
    actions = ["recompute"]
    change_form_template = "admin/segments/segment/change_form.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(self.preview_view), name="segments_segment_preview"),
            path(
                "<int:segment_id>/test-user/",
                wrap(self.test_user_view),
                name="segments_segment_test_user",
            ),
            path(
                "<int:segment_id>/backfill/",
                wrap(self.backfill_view),
                name="segments_segment_backfill",
            ),
            path(
                "<int:segment_id>/why/<int:customer_id>/",
                wrap(partial(why_view, self.admin_site)),
                name="segments_segment_why",
            ),
            *super().get_urls(),
        ]

    def test_user_view(self, request, segment_id):
        if not request.user.has_perm("segments.add_membership"):
            raise PermissionDenied
        return test_user_add_view(request, segment_id)

    def backfill_view(self, request, segment_id):
        if not request.user.has_perm("segments.add_membership"):
            raise PermissionDenied
        return backfill_view(request, segment_id)

    def changelist_view(self, request, extra_context=None):
        request._segment_figures = True  # see get_queryset
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        segment = self.get_object(request, object_id)
        if segment is not None:
            page = segment_page_context(segment)
            # The form's "members" shows the stats' total: the big segment is
            # counted once (Django's view gets this same object: get_object).
            segment.member_count = page["stats"].total
            extra_context = {**page, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        # change_view reads the segment for the page's context, then Django's
        # view reads it again: one object per request.
        found = request.__dict__.setdefault("_segments_read", {})
        key = (str(object_id), from_field)
        if key not in found:
            found[key] = super().get_object(request, object_id, from_field)
        return found[key]

    def preview_view(self, request):
        """The count, a sample and per-condition counts for the rules being edited."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the rules as JSON."}, status=405)
        try:
            body = json.loads(request.body or b"{}")
            segment = Segment.objects.filter(pk=body.get("segment")).first()
            preview = segment_preview(
                rules=body.get("rules"),
                type=body.get("type") or (segment.type if segment else "rule"),
                trigger_event=body.get("trigger_event")
                or (segment.trigger_event if segment else ""),
                segment=segment,
            )
        except (ValueError, AttributeError):
            return JsonResponse(
                {"errors": ['Expected JSON: {"rules": {...}}.']}, status=400
            )
        except ValidationError as exc:
            return JsonResponse({"errors": exc.messages}, status=400)
        return JsonResponse(
            {
                "count": preview.count,
                "sample": [
                    {
                        "id": c.external_id,
                        "email": c.email,
                        "url": reverse("admin:segments_customer_change", args=[c.pk]),
                    }
                    for c in preview.sample
                ],
                "conditions": [
                    {"label": c.label, "count": c.count} for c in preview.conditions
                ],
            }
        )

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        if obj is None or obj.type != Segment.Type.STATIC:  # static: no rules
            context["rule_catalog"] = rule_catalog(exclude_segment=obj)
        # Through the reverse relation: segments does not import campaigns.
        context["live_campaigns"] = list(obj.campaigns.live()) if obj else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description="Recompute the members of the selected rule segments")
    def recompute(self, request, queryset):
        segments = list(queryset.filter(type=Segment.Type.RULE, archived=False))
        for segment in segments:
            segment_compute_request(segment=segment)
        self.message_user(
            request,
            f"Recomputing {len(segments)} rule segment(s) in the background.",
            messages.SUCCESS,
        )

    @admin.display(description="computation", ordering="computed_at")
    def computation(self, obj):
        return computation_html(obj)

    def get_queryset(self, request):
        # The list's figures (counts of every member of the page's segments) for
        # the list only: not for the segment page (its stats count them) or the
        # autocomplete.
        segments = super().get_queryset(request)
        if getattr(request, "_segment_figures", False):
            return segments_with_figures(segments)
        return segments

    def get_fields(self, request, obj=None):
        if obj is None:
            return tuple(f for f in FIELDS if f != "archived")
        hidden = HIDDEN_FIELDS.get(obj.type, set())
        return tuple(f for f in (*FIELDS, *READONLY_FIELDS) if f not in hidden)

    def get_readonly_fields(self, request, obj=None):
        # A segment's type is fixed once it exists.
        return ("type", *READONLY_FIELDS) if obj else ()

    @admin.display(description="members", ordering="member_count")
    def members(self, obj):
        url = reverse("admin:segments_membership_changelist")
        return format_html(
            '<a href="{}?segment__id__exact={}">{}</a>', url, obj.pk, obj.member_count
        )

    @admin.display(description="new this week", ordering="new_week")
    def new_this_week(self, obj):
        return obj.new_week

    @admin.display(description="new this month", ordering="new_month")
    def new_this_month(self, obj):
        return obj.new_month

    @admin.display(description="campaigns", ordering="campaign_count")
    def campaigns_using(self, obj):
        if not obj.campaign_count:
            return 0
        url = reverse("admin:campaigns_campaign_changelist")
        return format_html(
            '<a href="{}?segments__id__exact={}">{}</a>',
            url,
            obj.pk,
            obj.campaign_count,
        )

    @admin.display(description="add members")
    def add_member(self, obj):
        url = reverse("admin:segments_membership_add")
        return format_html(
            '<a href="{}?segment={}">Add a member, a test user or a block</a>',
            url,
            obj.pk,
        )

    @admin.display(description="rule tree")
    def rule_tree(self, obj):
        spec = segment_rule_spec(segment=obj)
        return rule_tree_html(spec) if spec else "-"

    def perform(self, request, form):
        data, actor = form.cleaned_data, Actor.admin(request.user)
        if form.instance.pk is None:
            return segment_create(
                actor=actor,
                name=data["name"],
                type=data["type"],
                description=data["description"],
                trigger_event=data["trigger_event"],
                exit_after_days=data["exit_after_days"],
                rules=data["rules"],
            )
        changes = {name: data[name] for name in UPDATABLE_FIELDS if name in data}
        if "rules" in form.changed_data:
            changes["rules"] = data["rules"]
        return segment_update(segment=fresh(form), actor=actor, **changes)

    def delete_model(self, request, obj):
        segment_delete(segment=obj, actor=Actor.admin(request.user))


@admin.register(Condition)
class ConditionAdmin(ReadOnlyAdmin):
    """Where a field or operator is used, across segments. Conditions are edited as
    their segment's rule tree."""

    list_display = ("segment", "field", "operator", "value", "group")
    list_filter = ("operator", "rule__segment__type")
    search_fields = ("field", "rule__segment__name")
    search_help_text = "A field (attributes.channel) or a segment's name."
    list_select_related = ("rule__segment",)

    @admin.display(description="segment", ordering="rule__segment__name")
    def segment(self, obj):
        return obj.rule.segment

    @admin.display(description="group")
    def group(self, obj):
        return obj.rule.match.upper()
