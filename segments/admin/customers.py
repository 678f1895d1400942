import json
from functools import partial

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import path

from segments.models import Customer, Event
from segments.selectors import (
    SEARCH_HELP,
    SEARCHED_FIELDS,
    customer_profile,
    customer_segments,
    customers_search,
    event_names_recent,
)
from segments.services import Actor, customer_erase, customer_upsert

from .attributes import AttributeFormSet, attribute_rows
from .base import ReadOnlyAdmin, ServiceAdmin, ServiceForm
from .ingestion import ingestion_view
from .lists import CustomerRowsSearch, EstimatingPaginator


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def profile_context(customer: Customer) -> dict:
    profile = customer_profile(customer=customer)
    return {
        "profile": profile,
        "attributes": attribute_rows(customer.attributes),
        "events": [(event, _json(event.properties)) for event in profile.events],
        # Through the reverse relation: segments does not import campaigns.
        "enrollments": list(
            customer.enrollments.select_related("campaign").order_by("-enrolled_at")
        ),
    }


PROFILE_FIELDS = ("email", "phone", "first_name", "last_name")


class CustomerForm(ServiceForm):
    """The profile fields, and the attributes as rows (`attribute_rows`, a formset
    the page renders as a table) that become the `attributes` the service gets."""

    class Meta:
        model = Customer
        fields = ("external_id", *PROFILE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.attribute_rows = AttributeFormSet(
            self.data if self.is_bound else None,
            initial=attribute_rows(self.instance.attributes),
            prefix="attributes",
        )

    def clean(self):
        data = super().clean()
        if self.attribute_rows.is_valid():
            data["attributes"] = self.attribute_rows.attributes()
        else:
            self.add_error(None, "Fix the attributes marked below.")
        return data


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    form = CustomerForm
    list_display = ("external_id", "email", "full_name", "created_at", "last_seen_at")
    list_filter = ("created_at", "last_seen_at")
    search_fields = SEARCHED_FIELDS  # searched by customers_search
    search_help_text = SEARCH_HELP
    # No date_hierarchy on the big lists: its year/month links are a SELECT
    # DISTINCT over the whole table on every view. The date filters cost nothing.
    show_full_result_count = False
    paginator = EstimatingPaginator
    readonly_fields = ("created_at", "updated_at", "last_seen_at", "segments")

    def get_readonly_fields(self, request, obj=None):
        # The external id is what the upsert finds the customer by.
        extra = ("external_id",) if obj else ()
        return (*extra, *super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        if obj is None:
            return CustomerForm.Meta.fields
        return (*CustomerForm.Meta.fields, *self.readonly_fields)

    @admin.display(description="segments")
    def segments(self, obj):
        return ", ".join(s.name for s in customer_segments(customer=obj)) or "-"

    def get_search_results(self, request, queryset, search_term):
        return customers_search(customers=queryset, term=search_term), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, object_id)
        if customer is not None:
            extra_context = {**profile_context(customer), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def perform(self, request, form):
        data = form.cleaned_data
        adding = form.instance.pk is None
        attributes = data["attributes"]
        if not adding:
            # The rows are the whole object; the service merges, so a row removed
            # is sent as null, which removes that attribute.
            attributes = {**dict.fromkeys(form.instance.attributes), **attributes}
        result = customer_upsert(
            external_id=data["external_id"] if adding else form.instance.external_id,
            actor=Actor.admin(request.user),
            attributes=attributes,
            **{name: data[name] for name in PROFILE_FIELDS},
        )
        if adding and not result.created:
            raise ValidationError(
                {"external_id": "A customer with this id already exists."}
            )
        return result.customer

    def delete_model(self, request, obj):
        customer_erase(customer=obj, actor=Actor.admin(request.user))


class RecentNameFilter(admin.SimpleListFilter):
    """The names that arrived in the last week (from an index), not every name
    ever sent (a scan of all events)."""

    title = "name"
    parameter_name = "name"

    def lookups(self, request, model_admin):
        return [(name, name) for name in event_names_recent()]

    def queryset(self, request, queryset):
        return queryset.filter(name=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(CustomerRowsSearch, ReadOnlyAdmin):
    """Events arrive through the API; the ingestion page shows them live."""

    list_display = ("name", "customer", "timestamp", "received_at", "message_id")
    list_filter = (RecentNameFilter, "timestamp", "received_at")
    list_select_related = ("customer",)
    show_full_result_count = False
    paginator = EstimatingPaginator

    def get_urls(self):
        live = self.admin_site.admin_view(partial(ingestion_view, self))
        return [
            path("live/", live, name="segments_event_live"),
            *super().get_urls(),
        ]
