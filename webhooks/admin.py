"""Endpoints are registered by admins; messages and every attempt are read-only."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from .models import EventType, WebhookAttempt, WebhookEndpoint, WebhookMessage
from .services import webhook_endpoint_enable


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="The changes to send.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "event_types", "segments", "is_active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "description", "event_types", "state", "failing_since")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    filter_horizontal = ("segments",)
    readonly_fields = (
        "secret",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
    )
    fields = (
        "url",
        "description",
        "event_types",
        "segments",
        "is_active",
        "secret",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
    )
    actions = ["enable"]

    @admin.display(description="state")
    def state(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.is_active:
            return "failing" if endpoint.failing_since else "active"
        return (
            f"disabled: {endpoint.disabled_reason}" if endpoint.disabled_at else "off"
        )

    @admin.action(description="Enable again (pending messages are sent)")
    def enable(self, request, queryset):
        with transaction.atomic():
            for endpoint in queryset:
                webhook_endpoint_enable(endpoint=endpoint)
        self.message_user(request, "Enabled.", messages.SUCCESS)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "error", "duration_ms", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookMessage)
class WebhookMessageAdmin(admin.ModelAdmin):
    list_display = (
        "message_id",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    readonly_fields = (
        "endpoint",
        "message_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
