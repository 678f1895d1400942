"""Housekeeping for import jobs, run hourly by Celery beat: stored files nobody will
read again are deleted, and jobs whose worker stopped are marked failed."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from segments.models import ImportJob

Status = ImportJob.Status


@dataclass(frozen=True)
class ImportsPurged:
    files: int  # stored files deleted
    lost: int  # jobs marked failed


@transaction.atomic
def imports_purge() -> ImportsPurged:
    """A preview's file is kept for its confirmation for IMPORT_PREVIEW_KEEP_SECONDS;
    a job queued or running for longer than IMPORT_TIMEOUT_SECONDS lost its worker.
    Its rows were applied in one transaction, so a lost job applied nothing."""
    now = timezone.now()
    lost = ImportJob.objects.filter(
        Q(status=Status.RUNNING, started_at__lt=_ago(settings.IMPORT_TIMEOUT_SECONDS))
        | Q(status=Status.QUEUED, created_at__lt=_ago(settings.IMPORT_TIMEOUT_SECONDS))
    ).update(
        status=Status.FAILED,
        finished_at=now,
        error="The import stopped (its worker was lost); nothing was applied. "
        "Upload the file again.",
    )
    stale = ImportJob.objects.filter(
        status__in=ImportJob.FINISHED,
        created_at__lt=_ago(settings.IMPORT_PREVIEW_KEEP_SECONDS),
    ).exclude(file="")
    files = 0
    for job in stale.only("pk", "file"):
        if job.file.name and job.file.storage.exists(job.file.name):
            job.file.storage.delete(job.file.name)
            files += 1
    stale.update(file="")
    return ImportsPurged(files=files, lost=lost)


def _ago(seconds: int):
    return timezone.now() - timedelta(seconds=seconds)
