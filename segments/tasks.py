"""Background jobs: load by id, call a service, nothing else."""

from celery import shared_task

from segments.services.compute import segment_compute_run, segments_refresh_due
from segments.services.event_segments import segments_members_expire
from segments.services.imports import import_job_run, imports_purge


@shared_task
def recompute_segment(segment_id: int) -> None:
    segment_compute_run(segment_id=segment_id)


@shared_task
def refresh_segments() -> None:
    segments_refresh_due()


@shared_task
def run_import(job_id: int) -> None:
    import_job_run(job_id=job_id)


@shared_task
def purge_imports() -> None:
    imports_purge()


@shared_task
def expire_segment_members() -> None:
    segments_members_expire()
