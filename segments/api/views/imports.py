"""Member imports from a file, their progress and issues, and exports of members."""

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from segments.models import ImportIssue, ImportJob
from segments.selectors import EXPORT_COLUMNS, IdType, import_issue_rows
from segments.services.imports import (
    FORMATS,
    csv_chunks,
    export_file,
    import_job_cancel,
    import_job_create,
)

from ..base import (
    ApiView,
    actor,
    get_or_404,
    segment_or_404,
    valid,
    valid_query,
)

# Room for the multipart envelope and the other fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
ISSUES_SHOWN = 100


class IssueOutput(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line in the file; the header is 1.")
    kind = serializers.ChoiceField(choices=ImportIssue.Kind.choices)
    value = serializers.CharField(help_text="The row's id, as written.")
    reason = serializers.CharField()


class ImportJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    segment_id = serializers.IntegerField()
    filename = serializers.CharField()
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    error = serializers.CharField(help_text="Why the job failed or was cancelled.")
    dry_run = serializers.BooleanField()
    id_type = serializers.CharField()
    id_column = serializers.CharField()
    create_missing = serializers.BooleanField()
    size = serializers.IntegerField(help_text="Bytes in the file.")
    bytes_read = serializers.IntegerField()
    rows_read = serializers.IntegerField()
    rows_applied = serializers.IntegerField()
    rows_total = serializers.IntegerField(help_text="The sum of the counts below.")
    added = serializers.IntegerField()
    already_members = serializers.IntegerField()
    unknown = serializers.IntegerField()
    blocked = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    invalid = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Customers created (create_missing).")
    issues = IssueOutput(
        many=True,
        source="first_issues",
        help_text=f"The first {ISSUES_SHOWN} rows not added, by line.",
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def job_output(job: ImportJob) -> dict:
    job.first_issues = list(job.issues.order_by("line")[:ISSUES_SHOWN])
    return ImportJobOutput(job).data


class SegmentImportsApi(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="CSV (UTF-8, UTF-16 or Windows-1252) or XLSX, with a header."
        )
        id_type = serializers.ChoiceField(
            choices=IdType.choices,
            required=False,
            help_text="What the id column holds; default: found from its header.",
        )
        id_column = serializers.CharField(
            required=False, allow_blank=True, max_length=255
        )
        create_missing = serializers.BooleanField(required=False, default=False)
        dry_run = serializers.BooleanField(required=False, default=False)

    def body_limit(self) -> tuple[int, str]:
        limit = settings.IMPORT_MAX_FILE_BYTES
        return (
            limit + MULTIPART_OVERHEAD,
            f"Files up to {limit:,} bytes are imported; split the file.",
        )

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={202: ImportJobOutput},
        summary="Import members from a CSV or XLSX file",
        description="The file is checked at once (size, encoding, header, id column: "
        "400 naming the problem); its rows are then imported in the background. "
        "Follow the job with GET /imports/{id}. See docs/imports.md.",
    )
    def post(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        data = valid(self.InputSerializer, request.data)
        upload = data.pop("file")
        job = import_job_create(
            segment=segment,
            file=upload,
            filename=upload.name,
            actor=actor(request),
            **data,
        )
        job.refresh_from_db()  # run already when there is no broker
        return Response(job_output(job), status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(ApiView):
    @extend_schema(
        responses=ImportJobOutput,
        summary="An import's status, progress and counts",
        description="The counts add up to the rows of the file (blank lines aside).",
    )
    def get(self, request, import_id: int):
        job = get_or_404(ImportJob.objects, "import", pk=import_id)
        return Response(job_output(job))


class ImportCancelApi(ApiView):
    @extend_schema(
        request=None,
        responses=ImportJobOutput,
        summary="Cancel a queued or running import",
        description="Nothing of a cancelled import is applied. Once its rows are "
        "being applied it runs to the end; then the answer is 400.",
    )
    def post(self, request, import_id: int):
        job = get_or_404(ImportJob.objects, "import", pk=import_id)
        return Response(job_output(import_job_cancel(job=job, actor=actor(request))))


class FileApi(ApiView):
    def perform_content_negotiation(self, request, force=False):
        # The answer is a file, or an error in JSON whatever `format` says (DRF
        # would take `format` for the name of a renderer).
        return JSONRenderer(), JSONRenderer.media_type


def file_response(content, *, filename: str, content_type: str):
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ImportIssuesApi(FileApi):
    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)},
        summary="Every row of an import that was not added, as CSV",
        description="Columns: line, kind, value, reason.",
    )
    def get(self, request, import_id: int):
        job = get_or_404(ImportJob.objects, "import", pk=import_id)
        return file_response(
            csv_chunks(import_issue_rows(job=job)),
            filename=f"import-{job.pk}-issues.csv",
            content_type=FORMATS["csv"],
        )


class SegmentExportApi(FileApi):
    class QuerySerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=list(FORMATS), default="csv")
        attributes = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="Attribute names to add as columns, comma-separated.",
        )

    @extend_schema(
        parameters=[QuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, FORMATS["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY),
        },
        summary="Export a segment's members as CSV or XLSX",
        description=f"Streamed. Columns: {', '.join(EXPORT_COLUMNS)}, then the "
        "attributes asked for. Cells that a spreadsheet would run as a formula start "
        "with an apostrophe. The file imports back as it is.",
    )
    def get(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        query = valid_query(self.QuerySerializer, request)
        names = [n.strip() for n in query.get("attributes", "").split(",")]
        content, filename = export_file(
            segment=segment, format=query["format"], attributes=[n for n in names if n]
        )
        return file_response(
            content, filename=filename, content_type=FORMATS[query["format"]]
        )
