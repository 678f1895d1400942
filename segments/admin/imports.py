"""Member imports and exports in the admin, on the segment's pages.

Upload a file: it is checked and previewed (a dry-run job: counts and the first
rows not added, nothing written), then confirmed, which applies the same file with
the same options as a new job; a progress bar follows the jobs. The same service
as the API and the import_members command does every step.

django-import-export's own import flow is not used here: it reads the whole file
into the session and imports row by row (see bench/imports.py); these views keep
its shape, preview then confirm, over the streamed, set-based service.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from segments.models import ImportJob, Segment
from segments.selectors import IdType, import_issue_rows
from segments.services import Actor
from segments.services.imports import (
    FORMATS,
    csv_chunks,
    export_file,
    import_job_cancel,
    import_job_confirm,
    import_job_create,
)

from .base import add_service_errors

ISSUES_SHOWN = 20
TEMPLATES = "admin/segments/segment/"


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (UTF-8, UTF-16 or Windows-1252) or XLSX, with a header row."
    )
    id_type = forms.ChoiceField(
        choices=[("", "Found from the header"), *IdType.choices],
        required=False,
        label="The ids are",
    )
    id_column = forms.CharField(
        required=False,
        label="Id column",
        help_text="Its header, when not id, user_id, external_id, customer_id or "
        "email.",
    )
    create_missing = forms.BooleanField(
        required=False,
        label="Create unknown customers",
        help_text="And update customers from the other columns (email, names, "
        "phone, any other header as an attribute).",
    )


class SegmentImportMixin:
    """Adds the import and export pages to SegmentAdmin (one line there)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/import/",
                view(self.import_members_view),
                name="segments_segment_import_members",
            ),
            path(
                "<path:object_id>/export/",
                view(self.export_members_view),
                name="segments_segment_export_members",
            ),
            path(
                "imports/<int:job_id>/",
                view(self.import_job_view),
                name="segments_segment_import_job",
            ),
            path(
                "imports/<int:job_id>/status/",
                view(self.import_status_view),
                name="segments_segment_import_status",
            ),
            path(
                "imports/<int:job_id>/confirm/",
                view(require_POST(self.import_confirm_view)),
                name="segments_segment_import_confirm",
            ),
            path(
                "imports/<int:job_id>/cancel/",
                view(require_POST(self.import_cancel_view)),
                name="segments_segment_import_cancel",
            ),
            path(
                "imports/<int:job_id>/issues.csv",
                view(self.import_issues_view),
                name="segments_segment_import_issues",
            ),
            *super().get_urls(),
        ]

    def import_members_view(self, request, object_id):
        segment = self._segment(request, object_id, change=True)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = self._preview(request, segment, form)
            if job is not None:
                return HttpResponseRedirect(_job_url(job))
        return self._render(request, "import_members.html", segment, form=form)

    def _preview(self, request, segment, form) -> ImportJob | None:
        upload = form.cleaned_data["file"]
        try:
            return import_job_create(
                segment=segment,
                file=upload,
                filename=upload.name,
                actor=Actor.admin(request.user),
                id_type=form.cleaned_data["id_type"] or None,
                id_column=form.cleaned_data["id_column"],
                create_missing=form.cleaned_data["create_missing"],
                dry_run=True,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return None

    def import_job_view(self, request, job_id):
        job = self._job(request, job_id)
        return self._render(
            request,
            "import_job.html",
            job.segment,
            job=job,
            counts=[(label, getattr(job, name)) for name, label in ImportJob.COUNTS],
            issues=list(job.issues.order_by("line")[:ISSUES_SHOWN]),
            can_confirm=job.dry_run and job.status == ImportJob.Status.DONE,
        )

    def import_status_view(self, request, job_id):
        job = self._job(request, job_id)
        return JsonResponse(
            {
                "status": job.status,
                "finished": job.finished,
                "percent": round(100 * job.bytes_read / job.size) if job.size else 0,
                "rows_read": job.rows_read,
                "rows_applied": job.rows_applied,
            }
        )

    def import_confirm_view(self, request, job_id):
        job = self._job(request, job_id, change=True)
        try:
            job = import_job_confirm(job=job, actor=Actor.admin(request.user))
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(_job_url(job))

    def import_cancel_view(self, request, job_id):
        job = self._job(request, job_id, change=True)
        try:
            import_job_cancel(job=job, actor=Actor.admin(request.user))
            self.message_user(request, "The import was cancelled.", messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(_job_url(job))

    def import_issues_view(self, request, job_id):
        job = self._job(request, job_id)
        return _download(
            csv_chunks(import_issue_rows(job=job)),
            f"import-{job.pk}-issues.csv",
            FORMATS["csv"],
        )

    def export_members_view(self, request, object_id):
        segment = self._segment(request, object_id)
        file_format = request.GET.get("format", "csv")
        if file_format not in FORMATS:
            file_format = "csv"
        names = request.GET.get("attributes", "").split(",")
        content, filename = export_file(
            segment=segment,
            format=file_format,
            attributes=[n.strip() for n in names if n.strip()],
        )
        return _download(content, filename, FORMATS[file_format])

    def _segment(self, request, object_id, change=False) -> Segment:
        segment = get_object_or_404(Segment, pk=object_id)
        allowed = (
            self.has_change_permission(request, segment)
            if change
            else self.has_view_permission(request, segment)
        )
        if not allowed:
            raise PermissionDenied
        return segment

    def _job(self, request, job_id, change=False) -> ImportJob:
        job = get_object_or_404(ImportJob.objects.select_related("segment"), pk=job_id)
        self._segment(request, job.segment_id, change=change)
        return job

    def _render(self, request, template, segment, **context):
        return TemplateResponse(
            request,
            TEMPLATES + template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": segment,
                "title": f"Import members into {segment.name}",
                **context,
            },
        )


def _job_url(job: ImportJob) -> str:
    return reverse("admin:segments_segment_import_job", args=[job.pk])


def _download(content, filename: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
