"""What every service-backed ModelAdmin shares.

The admin never saves a model itself. A form validates by running the admin's
`perform` (which calls one service) in a savepoint: whatever the service refuses is
rolled back and lands on the form, on the field at fault; what it accepts stays, and
`save_model` only adopts the result. The admin view runs in one transaction, so
nothing is committed unless the whole request succeeds. (Inline formsets would be
validated after the form, too late to undo its work: these admins have none.)
"""

import json
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, router, transaction
from django.forms.fields import InvalidJSONInput
from django.http import HttpResponseRedirect
from django.urls import reverse


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's errors on the form: on the field when the form has it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def adopt(obj: models.Model, saved: models.Model) -> None:
    """Copy what the service saved onto the admin's object, which the admin then
    logs and redirects to."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


def fresh(form: forms.ModelForm) -> models.Model:
    """The form's object loaded anew for the service, which changes what it is given:
    a refused change must not show on the page the admin renders again."""
    return type(form.instance)._default_manager.get(pk=form.instance.pk)


class JSONTextField(forms.JSONField):
    """JSON in a textarea, indented so that a nested object reads as a tree."""

    widget = forms.Textarea(attrs={"rows": 14, "cols": 80})

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        if value is None:
            return ""
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class ServiceForm(forms.ModelForm):
    # Set by ServiceAdmin.get_form: the admin's perform, bound to the request.
    perform = None
    # What perform returned, once the form is valid.
    result = None

    def _post_clean(self):
        # The service validates the object (fields, constraints, rules) and names the
        # field at fault; the model form's own checks would only repeat it less well.
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.result = self.perform(self)
        except ValidationError as exc:
            add_service_errors(self, exc)
        except ObjectDoesNotExist:
            # Deleted by another request while this one ran (the service said so).
            name = self._meta.model._meta.verbose_name
            self.add_error(
                None, f"This {name} was deleted meanwhile; nothing was saved."
            )


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes all go through services.

    Subclasses implement `perform(request, form)`: call the service with the form's
    data and return the saved object, raising ValidationError when the service refuses
    or would change nothing. Deletes override `delete_model`.
    """

    form = ServiceForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.perform = staticmethod(partial(self.perform, request))
        return form

    def get_inline_instances(self, request, obj=None):
        return []  # see the module's docstring

    def save_model(self, request, obj, form, change):
        adopt(obj, form.result)

    def save_related(self, request, form, formsets, change):
        """The service saved the relations with the object."""

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def get_deleted_objects(self, objs, request):
        # Counts, where the default lists every row the delete cascades to (thousands
        # for a big segment) and asks for delete permission on the read-only history.
        objs = list(objs)
        counts = {self.opts.verbose_name_plural: len(objs)}
        for rel in self.opts.related_objects:
            if rel.on_delete is models.CASCADE:
                related = rel.related_model._base_manager
                n = related.filter(**{f"{rel.field.name}__in": objs}).count()
                if n:
                    counts[rel.related_model._meta.verbose_name_plural] = n
        return [str(obj) for obj in objs], counts, set(), []

    # A service may still refuse after the form validated (another request changed
    # the data meanwhile) or in a delete or an action. The whole request is then
    # rolled back and the refusal shown: no half-done work, no "saved" message.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        view = super().changeform_view
        return self._refusals_shown(
            request, None, view, object_id, form_url, extra_context
        )

    def delete_view(self, request, object_id, extra_context=None):
        opts = self.opts
        back = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]
        )
        return self._refusals_shown(
            request, back, super().delete_view, object_id, extra_context
        )

    def changelist_view(self, request, extra_context=None):
        view = super().changelist_view
        return self._refusals_shown(request, None, view, extra_context)

    def _refusals_shown(self, request, redirect_to, view, *args):
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return view(request, *args)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(redirect_to or request.get_full_path())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows other services write (events, the history): only looked at here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChangedByActionsMixin:
    """Rows that change through the list's actions, never through an edit form.

    Actions ask for the change permission without an object; an object's page asks
    with one and is shown read-only.
    """

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)
