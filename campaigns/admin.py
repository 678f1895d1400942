from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from segments.admin.base import ChangedByActionsMixin, ServiceAdmin, ServiceForm, fresh
from segments.services import Actor

from .models import Campaign, Enrollment
from .services import (
    campaign_create,
    campaign_delete,
    campaign_update,
    enrollment_add,
    enrollment_remove,
)

FIELDS = ("name", "description", "status", "segments", "starts_at", "ends_at")

# The home page's count of live campaigns (segments does not import campaigns).
admin.site.dashboard_counters.append(
    lambda: {"live_campaigns": Campaign.objects.live().count()}
)


AUDIENCE_HELP = (
    "While the campaign is live, a customer who enters one of these segments is "
    "enrolled. Leaving a segment does not end an enrollment: a campaign, once "
    "started for a customer, runs its course. A customer removed from the campaign "
    "stays out until added back here."
)


class CampaignForm(ServiceForm):
    class Meta:
        model = Campaign
        fields = FIELDS
        help_texts = {"segments": AUDIENCE_HELP}


@admin.register(Campaign)
class CampaignAdmin(ServiceAdmin):
    form = CampaignForm
    list_display = (
        "name",
        "status",
        "audience",
        "enrolled",
        "removed",
        "starts_at",
        "ends_at",
    )
    list_filter = ("status",)
    search_fields = ("name",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("segments",)
    readonly_fields = (
        "enrolled",
        "removed",
        "customers",
        "created_by",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        active = Q(enrollments__status=Enrollment.Status.ACTIVE)
        removed = Q(enrollments__status=Enrollment.Status.REMOVED)
        return (
            super()
            .get_queryset(request)
            .annotate(
                enrolled_count=Count("enrollments", filter=active),
                removed_count=Count("enrollments", filter=removed),
            )
            .prefetch_related("segments")
            # Meta.ordering does not apply to an aggregating query: ask for it again.
            .order_by(*Campaign._meta.ordering)
        )

    def get_fields(self, request, obj=None):
        return FIELDS if obj is None else (*FIELDS, *self.readonly_fields)

    @admin.display(description="audience segments")
    def audience(self, obj):
        return ", ".join(s.name for s in obj.segments.all()) or "-"

    @admin.display(description="enrolled", ordering="enrolled_count")
    def enrolled(self, obj):
        return obj.enrolled_count

    @admin.display(description="removed", ordering="removed_count")
    def removed(self, obj):
        return obj.removed_count

    @admin.display(description="customers")
    def customers(self, obj):
        enrollments = reverse("admin:campaigns_enrollment_changelist")
        add = reverse("admin:campaigns_enrollment_add")
        return format_html(
            '<a href="{}?campaign__id__exact={}">Enrollments</a> &middot; '
            '<a href="{}?campaign={}">Add a customer</a>',
            enrollments,
            obj.pk,
            add,
            obj.pk,
        )

    def perform(self, request, form):
        data, actor = form.cleaned_data, Actor.admin(request.user)
        changes = {name: data[name] for name in FIELDS if name != "segments"}
        if form.instance.pk is None:
            return campaign_create(actor=actor, segments=data["segments"], **changes)
        return campaign_update(
            campaign=fresh(form), actor=actor, segments=data["segments"], **changes
        )

    def delete_model(self, request, obj):
        campaign_delete(campaign=obj, actor=Actor.admin(request.user))


class EnrollmentForm(ServiceForm):
    class Meta:
        model = Enrollment
        fields = ("campaign", "customer")


@admin.register(Enrollment)
class EnrollmentAdmin(ChangedByActionsMixin, ServiceAdmin):
    form = EnrollmentForm
    list_display = (
        "customer",
        "campaign",
        "status",
        "source",
        "source_segment",
        "enrolled_at",
        "removed_at",
        "removed_by",
    )
    list_filter = ("status", "source", "campaign")
    search_fields = ("=customer__external_id", "customer__email")
    search_help_text = "A customer's external id or email."
    date_hierarchy = "enrolled_at"
    list_select_related = ("customer", "campaign", "source_segment")
    autocomplete_fields = ("campaign", "customer")
    show_full_result_count = False
    actions = ("remove", "reenroll")

    def get_fields(self, request, obj=None):
        if obj is None:
            return EnrollmentForm.Meta.fields
        return self.list_display

    def has_delete_permission(self, request, obj=None):
        # Remove instead: a removed customer stays out when their segments change.
        return False

    def perform(self, request, form):
        data = form.cleaned_data
        campaign, customer = data["campaign"], data["customer"]
        result = enrollment_add(
            campaign=campaign, customer=customer, actor=Actor.admin(request.user)
        )
        if not result.changed:
            raise ValidationError(f'{customer} is already enrolled in "{campaign}".')
        return result.enrollment

    @admin.action(description="Remove from campaign", permissions=["change"])
    def remove(self, request, queryset):
        actor, rows = Actor.admin(request.user), _rows(queryset)
        removed = sum(
            enrollment_remove(
                campaign=row.campaign, customer=row.customer, actor=actor
            ).changed
            for row in rows
        )
        self.message_user(
            request, f"Removed {removed} of {len(rows)} selected from the campaign."
        )

    @admin.action(description="Re-enroll", permissions=["change"])
    def reenroll(self, request, queryset):
        actor, rows = Actor.admin(request.user), _rows(queryset)
        changed = sum(
            enrollment_add(
                campaign=row.campaign, customer=row.customer, actor=actor
            ).changed
            for row in rows
        )
        self.message_user(request, f"Re-enrolled {changed} of {len(rows)} selected.")


def _rows(queryset) -> list[Enrollment]:
    return list(queryset.select_related("campaign", "customer"))
