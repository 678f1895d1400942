from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from segments.models import Membership, MembershipChange
from segments.services import (
    Actor,
    segment_members_add,
    segment_members_remove,
    segment_override_set,
    segment_test_user_add,
    segment_test_user_remove,
)

from .base import ChangedByActionsMixin, ReadOnlyAdmin, ServiceAdmin, ServiceForm
from .lists import CustomerRowsSearch, EstimatingPaginator


class AddAs(models.TextChoices):
    MEMBER = "member", "Member (in a rule segment, pinned with an add override)"
    ADD = "add", "Pinned member: override add, in whatever the rules say"
    BLOCK = "block", "Blocked: override block, kept out whatever the rules say"
    TEST = "test", "Test user: a pinned member left out of stats"


NOTHING_TO_DO = {
    AddAs.MEMBER: "is already a member of",
    AddAs.ADD: "already has an add override in",
    AddAs.BLOCK: "is already blocked from",
    AddAs.TEST: "is already a test user in",
}


class MembershipForm(ServiceForm):
    user_status = forms.ChoiceField(
        label="Add as", choices=AddAs.choices, initial=AddAs.MEMBER
    )

    class Meta:
        model = Membership
        fields = ("segment", "customer")


class StatusFilter(admin.SimpleListFilter):
    """Members and blocked customers apart: a block row is not a membership."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("member", "Members"), ("test", "Test users"), ("blocked", "Blocked"))

    def queryset(self, request, queryset):
        if self.value() == "member":
            return queryset.members()
        if self.value() == "test":
            return queryset.members().filter(is_test=True)
        if self.value() == "blocked":
            return queryset.filter(override=Membership.Override.BLOCK)
        return queryset


@admin.register(Membership)
class MembershipAdmin(CustomerRowsSearch, ChangedByActionsMixin, ServiceAdmin):
    form = MembershipForm
    list_display = (
        "customer",
        "segment",
        "source",
        "override",
        "is_test",
        "joined_at",
        "why",
    )
    list_filter = (
        StatusFilter,
        "segment",
        "source",
        "override",
        "is_test",
        "joined_at",
    )
    # No date_hierarchy: a SELECT DISTINCT over a big segment's members per view.
    list_select_related = ("customer", "segment")
    autocomplete_fields = ("segment", "customer")
    show_full_result_count = False
    paginator = EstimatingPaginator
    actions = ("block", "reset_override", "remove", "remove_test_users")

    @admin.display(description="why")
    def why(self, obj):
        url = reverse(
            "admin:segments_segment_why", args=[obj.segment_id, obj.customer_id]
        )
        return format_html('<a href="{}">Why?</a>', url)

    def response_add(self, request, obj, post_url_continue=None):
        # Back to the segment the member was added to, not the list of all members.
        if "_addanother" in request.POST or "_continue" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{obj} added.", messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:segments_segment_change", args=[obj.segment_id])
        )

    def response_action(self, request, queryset, **kwargs):
        # An action on one segment's members (the segment page's links) goes back
        # to that segment's page.
        response = super().response_action(request, queryset, **kwargs)
        segment_id = request.GET.get("segment__id__exact", "")
        if isinstance(response, HttpResponseRedirect) and segment_id.isdigit():
            return HttpResponseRedirect(
                reverse("admin:segments_segment_change", args=[segment_id])
            )
        return response

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("segment", "customer", "user_status")
        return (
            "segment",
            "customer",
            "source",
            "override",
            "is_test",
            "joined_at",
            "updated_at",
            "reference_id",
            "metadata",
        )

    def perform(self, request, form):
        data, actor = form.cleaned_data, Actor.admin(request.user)
        segment, customer = data["segment"], data["customer"]
        add_as = data["user_status"]
        if add_as == AddAs.MEMBER:
            result = segment_members_add(
                segment=segment, customers=[customer], actor=actor
            )
            if result.blocked:
                raise ValidationError(
                    f'{customer} is blocked from "{segment}"; add them as a pinned '
                    "member to lift the block."
                )
            changed = bool(result.added)
        elif add_as == AddAs.TEST:
            state = segment_test_user_add(
                segment=segment, customer=customer, actor=actor
            )
            changed = state.changed
        else:
            state = segment_override_set(
                segment=segment, customer=customer, user_status=add_as, actor=actor
            )
            changed = state.changed
        if not changed:
            raise ValidationError(f'{customer} {NOTHING_TO_DO[add_as]} "{segment}".')
        return Membership.objects.get(segment=segment, customer=customer)

    def delete_model(self, request, obj):
        actor = Actor.admin(request.user)
        if obj.is_member:
            segment_members_remove(
                segment=obj.segment, customers=[obj.customer], actor=actor
            )
        else:
            # A block row is not a membership: deleting it lifts the block.
            segment_override_set(
                segment=obj.segment,
                customer=obj.customer,
                user_status="reset",
                actor=actor,
            )

    @admin.action(description="Block from the segment", permissions=["change"])
    def block(self, request, queryset):
        changed, total = self._override_set(
            request, queryset, Membership.Override.BLOCK
        )
        self.message_user(request, f"Blocked {changed} of {total} selected.")

    @admin.action(description="Reset override", permissions=["change"])
    def reset_override(self, request, queryset):
        changed, total = self._override_set(request, queryset, "reset")
        self.message_user(request, f"Reset the override of {changed} of {total}.")

    @admin.action(description="Remove from the segment", permissions=["change"])
    def remove(self, request, queryset):
        actor, removed = Actor.admin(request.user), 0
        by_segment = defaultdict(list)
        for row in _rows(queryset):
            by_segment[row.segment].append(row.customer)
        for segment, customers in by_segment.items():
            result = segment_members_remove(
                segment=segment, customers=customers, actor=actor
            )
            removed += len(result.removed)
        total = sum(map(len, by_segment.values()))
        message = f"Removed {removed} of {total} selected."
        if removed < total:
            message += " Blocked customers stay blocked: reset the override to unblock."
        self.message_user(request, message)

    @admin.action(description="Remove test users", permissions=["change"])
    def remove_test_users(self, request, queryset):
        actor, rows = Actor.admin(request.user), _rows(queryset)
        removed = sum(
            segment_test_user_remove(
                segment=row.segment, customer=row.customer, actor=actor
            ).changed
            for row in rows
        )
        self.message_user(
            request, f"Removed {removed} of {len(rows)} selected (test users only)."
        )

    def _override_set(self, request, queryset, user_status) -> tuple[int, int]:
        actor, rows = Actor.admin(request.user), _rows(queryset)
        changed = sum(
            segment_override_set(
                segment=row.segment,
                customer=row.customer,
                user_status=user_status,
                actor=actor,
            ).changed
            for row in rows
        )
        return changed, len(rows)


def _rows(queryset) -> list[Membership]:
    return list(queryset.select_related("segment", "customer"))


@admin.register(MembershipChange)
class MembershipChangeAdmin(CustomerRowsSearch, ReadOnlyAdmin):
    """The append-only history, newest first."""

    list_display = (
        "occurred_at",
        "customer",
        "segment",
        "action",
        "source",
        "override",
        "is_test",
        "actor_label",
    )
    list_filter = ("action", "actor_type", "segment", "source", "occurred_at")
    # No date_hierarchy: a SELECT DISTINCT over the whole history per view.
    ordering = ("-occurred_at", "-id")
    list_select_related = ("customer", "segment")
    show_full_result_count = False
    paginator = EstimatingPaginator
