import json

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from segments.models import Condition, Membership, Segment
from segments.rules import RuleSpec, rule_to_dict
from segments.selectors import segment_rule_spec
from segments.services import Actor, segment_create, segment_delete, segment_update

from .base import JSONTextField, ReadOnlyAdmin, ServiceAdmin, ServiceForm, fresh

FIELDS = ("name", "type", "trigger_event", "description", "archived", "rules")
UPDATABLE_FIELDS = ("name", "trigger_event", "description", "archived")
READONLY_FIELDS = (
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

    class Meta:
        model = Segment
        fields = FIELDS[:-1]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            spec = segment_rule_spec(segment=self.instance)
            self.initial["rules"] = rule_to_dict(spec) if spec else None


def rule_tree_html(spec: RuleSpec) -> str:
    conditions = (
        (c.field, c.operator, "" if c.value is None else json.dumps(c.value))
        for c in spec.conditions
    )
    groups = ((rule_tree_html(rule),) for rule in spec.rules)
    return format_html(
        "{} of:<ul>{}{}</ul>",
        spec.match.upper(),
        format_html_join("", "<li><code>{} {} {}</code></li>", conditions),
        format_html_join("", "<li>{}</li>", groups),
    )


@admin.register(Segment)
class SegmentAdmin(ServiceAdmin):
    form = SegmentForm
    list_display = ("name", "type", "members", "archived", "created_by", "updated_at")
    list_filter = ("type", "archived")
    search_fields = ("name",)
    list_select_related = ("created_by",)

    def get_queryset(self, request):
        members = Count(
            "memberships", filter=~Q(memberships__override=Membership.Override.BLOCK)
        )
        # Meta.ordering does not apply to an aggregating query: ask for it again.
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=members)
            .order_by("name")
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return tuple(f for f in FIELDS if f != "archived")
        return (*FIELDS, *READONLY_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        # A segment's type is fixed once it exists.
        return ("type", *READONLY_FIELDS) if obj else ()

    @admin.display(description="members", ordering="member_count")
    def members(self, obj):
        url = reverse("admin:segments_membership_changelist")
        return format_html(
            '<a href="{}?segment__id__exact={}">{}</a>', url, obj.pk, obj.member_count
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
                rules=data["rules"],
            )
        changes = {name: data[name] for name in UPDATABLE_FIELDS}
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
