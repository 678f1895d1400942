from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from segments.models import ApiKey
from segments.services import Actor, api_key_create, api_key_revoke

from .base import ChangedByActionsMixin, ServiceAdmin, ServiceForm, adopt


class ApiKeyForm(ServiceForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(ChangedByActionsMixin, ServiceAdmin):
    """Keys are created and revoked, never edited; the secret is shown once."""

    form = ApiKeyForm
    list_display = (
        "name",
        "key",
        "scope_list",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked",
    )
    list_filter = ("revoked",)
    search_fields = ("name", "=prefix")
    list_select_related = ("created_by",)
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyForm.Meta.fields
        # Never secret_hash.
        return (
            "name",
            "key",
            "scopes",
            "created_by",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked",
        )

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: the history keeps naming the key.
        return False

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.display(description="key")
    def key(self, obj):
        return f"sk_{obj.prefix}_…"

    def perform(self, request, form):
        data = form.cleaned_data
        return api_key_create(
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
            actor=Actor.admin(request.user),
        )

    def save_model(self, request, obj, form, change):
        adopt(obj, form.result.api_key)
        obj.clear_key = form.result.key  # for response_add; never saved

    def response_add(self, request, obj, post_url_continue=None):
        """The clear key on this response's page only: a message would carry it in
        the messages cookie, and a redirect would leave it in the browser's history
        of requests."""
        response = TemplateResponse(
            request,
            "admin/segments/apikey/key_created.html",
            {
                **self.admin_site.each_context(request),
                "api_key": obj,
                "key": obj.clear_key,
                "opts": self.opts,
            },
        )
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request, queryset):
        actor, keys = Actor.admin(request.user), list(queryset)
        live = [api_key for api_key in keys if not api_key.revoked]
        for api_key in live:
            api_key_revoke(api_key=api_key, actor=actor)
        self.message_user(request, f"Revoked {len(live)} of {len(keys)} selected.")
