from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from segments.models import ImportJob
from segments.services.imports import import_job_run, imports_purge

from ...factories import CustomerFactory
from .support import csv_bytes, run


def test_imports_purge__old_preview__file_deleted_recent_kept(static_segment):
    CustomerFactory(external_id="u1")
    old, recent = (
        run(static_segment, csv_bytes("id", "u1"), dry_run=True) for _ in "ab"
    )
    ImportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    old_path = old.file.path

    assert imports_purge().files == 1

    old.refresh_from_db()
    assert old.file.name == "" and not Path(old_path).exists()
    assert recent.file.storage.exists(recent.file.name)


def test_imports_purge__job_running_too_long__failed_and_never_applied(
    static_segment, settings
):
    CustomerFactory(external_id="u1")
    job = run(static_segment, csv_bytes("id", "u1"), dry_run=True)
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", started_at=timezone.now() - timedelta(hours=5)
    )

    assert imports_purge().lost == 1

    job.refresh_from_db()
    assert job.status == "failed" and "worker was lost" in job.error
    assert import_job_run(job_id=job.pk) is None  # a late delivery does nothing
