"""Imports of segment members from a file: the job, its rows' issues, and the
per-session staging table the rows are loaded into."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .api_keys import ApiKey
from .memberships import ActorType
from .segments import Segment


class ImportJob(models.Model):
    """One file imported into one segment. A dry run classifies the rows and writes
    nothing but its own counts and issues: the admin's preview."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="import_jobs"
    )
    file = models.FileField(upload_to="imports/%Y/%m/%d/", max_length=255)
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    # How the id column names customers: selectors.IdType (id, email, internal_id).
    id_type = models.CharField(max_length=12, default="id")
    id_column = models.CharField(max_length=255, blank=True, default="")
    create_missing = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(blank=True, default="")
    # Progress: bytes_read of size while the file is read.
    bytes_read = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_applied = models.PositiveBigIntegerField(default=0)
    # Every row of the file lands in exactly one of these.
    added = models.PositiveBigIntegerField(default=0)
    already_members = models.PositiveBigIntegerField(default=0)
    unknown = models.PositiveBigIntegerField(default=0)
    blocked = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    invalid = models.PositiveBigIntegerField(default=0)
    # Of the added and already members, how many customers the import created.
    created = models.PositiveBigIntegerField(default=0)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_label = models.CharField(max_length=255)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["segment", "created_at"], name="import_seg_created")
        ]

    def __str__(self) -> str:
        return f"{self.filename} into {self.segment}"

    COUNTS = (
        ("added", "added"),
        ("already_members", "already members"),
        ("unknown", "unknown ids"),
        ("blocked", "blocked"),
        ("duplicates", "duplicated in the file"),
        ("invalid", "invalid"),
    )

    @property
    def counts(self) -> dict[str, int]:
        """Where every row of the file went, by name: they add up to the rows."""
        return {name: getattr(self, name) for name, _ in self.COUNTS}

    @property
    def rows_total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class RowKind(models.TextChoices):
    """What became of a row of the file."""

    ADD = "add", "Added"
    ALREADY = "already", "Already a member"
    UNKNOWN = "unknown", "Unknown id"
    BLOCKED = "blocked", "Blocked"
    DUPLICATE = "duplicate", "Duplicated in the file"
    INVALID = "invalid", "Invalid"


class ImportIssue(models.Model):
    """A row of the file that was not added, with its line number and why."""

    Kind = RowKind

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    line = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10, choices=RowKind.choices)
    value = models.CharField(max_length=255, blank=True, default="")
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["job", "line"]
        indexes = [models.Index(fields=["job", "line"], name="import_issue_job_line")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.get_kind_display()}"


class StagedRow(models.Model):
    """A row of the file being imported, in a temporary table of the importing
    database session (created and dropped by the import service, never migrated):
    the rows are classified and applied from there with set-based statements."""

    line = models.BigIntegerField(primary_key=True)
    key = models.CharField(max_length=255)
    # Profile columns for create_missing, as a JSON object; empty when none.
    data = models.TextField(default="")
    kind = models.CharField(max_length=10, default="")

    class Meta:
        managed = False
        db_table = "import_staged_row"

    def __str__(self) -> str:
        return f"line {self.line}: {self.key}"
