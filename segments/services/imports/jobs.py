"""Import jobs: created from an upload (the file checked before anything is kept),
run in the background, cancelled on request."""

import logging
import uuid
from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from segments.models import ImportIssue, ImportJob, RowKind, Segment
from segments.selectors import IdType

from ..actors import Actor
from ..memberships import ChangeContext
from . import apply
from .columns import Columns, find_columns
from .reader import Table, read_table, refuse
from .staging import staging_create, staging_drop, staging_index, staging_load

logger = logging.getLogger(__name__)
Status = ImportJob.Status
CHUNK_ROWS = 50_000


@transaction.atomic
def import_job_create(
    *,
    segment: Segment,
    file: IO[bytes],
    filename: str,
    actor: Actor,
    id_type: str | None = None,
    id_column: str = "",
    create_missing: bool = False,
    dry_run: bool = False,
    queue: bool = True,
) -> ImportJob:
    """Check the file (size, encoding, header, id column) and queue its import
    (`queue=False`: the caller runs it with import_job_run). Refuses with a
    ValidationError naming what is wrong; writes nothing then."""
    _check_segment(segment)
    _check_size(file)
    table = read_table(file)
    columns = find_columns(table.header, id_type=id_type, id_column=id_column)
    if create_missing and columns.id_type != IdType.ID:
        raise ValidationError(
            {
                "create_missing": "Creating customers needs a column of external ids "
                "(id, user_id, external_id or customer_id)."
            }
        )
    file.seek(0)
    job = ImportJob(
        segment=segment,
        filename=_printable(filename),
        size=_size(file),
        id_type=columns.id_type,
        id_column=table.header[columns.id_index],
        create_missing=create_missing,
        dry_run=dry_run,
        **_actor_fields(actor),
    )
    # Stored under a name of our own: the marketer's may be long or odd.
    stored = f"{segment.pk}-{uuid.uuid4().hex}.{table.format}"
    job.file.save(stored, File(file, name=stored), save=False)
    job.save()
    if queue:
        _queue(job)
    return job


@transaction.atomic
def import_job_confirm(*, job: ImportJob, actor: Actor) -> ImportJob:
    """Apply what a finished dry run previewed: the same file, with the same
    options, as a new job."""
    if not job.dry_run or job.status != Status.DONE or not _kept(job):
        raise ValidationError("Only a finished preview can be confirmed.")
    _check_segment(job.segment)
    confirmed = ImportJob.objects.create(
        segment=job.segment,
        file=job.file.name,
        filename=job.filename,
        size=job.size,
        id_type=job.id_type,
        id_column=job.id_column,
        create_missing=job.create_missing,
        **_actor_fields(actor),
    )
    _queue(confirmed)
    return confirmed


@transaction.atomic
def import_job_cancel(*, job: ImportJob, actor: Actor) -> ImportJob:
    """Stop a queued or running import. Once its rows are being applied it runs to
    the end (the job is locked meanwhile), and then there is nothing to cancel."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.finished:
        raise ValidationError(
            f"The import is already {job.get_status_display().lower()}."
        )
    job.status, job.finished_at = Status.CANCELLED, timezone.now()
    job.error = f"Cancelled by {actor.label}."
    job.save(update_fields=["status", "finished_at", "error"])
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job: stream the file into the staging table, then classify and
    apply the rows in one transaction. Not atomic as a whole, so that progress is
    seen while the rows are read."""
    if not ImportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now()
    ):
        return None  # cancelled before it started, or run already
    job = ImportJob.objects.get(pk=job_id)
    try:
        _run(job)
    except ValidationError as exc:
        _fail(job, " ".join(_messages(exc)))
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        _fail(job, "The import failed on our side; nothing was applied. Retry later.")
    finally:
        staging_drop()
        if not job.dry_run and job.file.name:
            job.file.storage.delete(job.file.name)
    job.refresh_from_db()
    return job


def _run(job: ImportJob) -> None:
    with job.file.open("rb") as raw:
        table = read_table(raw)
        columns = find_columns(
            table.header, id_type=job.id_type, id_column=job.id_column
        )
        staging_create()
        for _ in _stage(job, table, columns, raw):
            if _cancelled(job):
                return
    staging_index(by_line=job.create_missing)
    _apply(job)


def _stage(job: ImportJob, table: Table, columns: Columns, raw) -> Iterator[None]:
    """Load the rows a chunk at a time, keeping the invalid ones as issues; yields
    after each chunk, with the progress saved."""
    rows, issues = [], []
    for line, cells in table.rows:
        job.rows_read += 1
        try:
            rows.append((line, *_staged(columns, cells)))
        except ValueError as exc:
            value = cells[columns.id_index] if columns.id_index < len(cells) else ""
            issues.append(
                ImportIssue(
                    job=job,
                    line=line,
                    kind=RowKind.INVALID,
                    value=value.strip()[:255],
                    reason=str(exc),
                )
            )
        if len(rows) + len(issues) >= CHUNK_ROWS:
            _flush(job, rows, issues, raw)
            rows, issues = [], []
            yield
    _flush(job, rows, issues, raw)
    yield


def _staged(columns: Columns, cells: list[str]) -> tuple[str, str]:
    if len(cells) > columns.width and not any(
        c.strip() for c in cells[columns.width :]
    ):
        cells = cells[: columns.width]  # trailing empty cells, as spreadsheets write
    if len(cells) != columns.width:
        raise ValueError(
            f"The row has {len(cells)} fields; the header has {columns.width}."
        )
    return columns.key(cells), columns.data(cells)


def _flush(job: ImportJob, rows, issues, raw) -> None:
    staging_load(rows)
    ImportIssue.objects.bulk_create(issues)
    job.invalid += len(issues)
    job.bytes_read = _position(raw, job.size)
    job.save(update_fields=["rows_read", "invalid", "bytes_read"])


def _apply(job: ImportJob) -> None:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != Status.RUNNING:
            return
        ctx = ChangeContext(actor=_actor_of(job), reference_id=f"import:{job.pk}")
        apply.rows_classify(segment=job.segment, id_type=job.id_type)
        if job.create_missing and not job.dry_run:
            job.created = apply.customers_create_or_update(job=job, ctx=ctx)
        counts = apply.rows_count()
        planned = counts[apply.TO_ADD]
        added = 0 if job.dry_run else _members_insert(job, ctx)
        apply.issues_insert(job=job)
        _finish(job, counts, planned, added)


def _members_insert(job: ImportJob, ctx: ChangeContext) -> int:
    return apply.members_insert(segment=job.segment, id_type=job.id_type, ctx=ctx)


def _finish(job: ImportJob, counts, planned: int, added: int) -> None:
    job.added = planned if job.dry_run else added
    job.already_members = counts[RowKind.ALREADY] + planned - job.added
    job.unknown = counts[RowKind.UNKNOWN]
    job.blocked = counts[RowKind.BLOCKED]
    job.duplicates = counts[RowKind.DUPLICATE]
    job.invalid += counts[RowKind.INVALID]
    if job.dry_run and job.create_missing:
        job.created = job.unknown  # would be created on confirming
    job.rows_applied = 0 if job.dry_run else job.added
    job.bytes_read = job.size
    job.status, job.finished_at = Status.DONE, timezone.now()
    job.save()


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.FAILED, error=message, finished_at=timezone.now()
    )


def _cancelled(job: ImportJob) -> bool:
    return ImportJob.objects.filter(pk=job.pk, status=Status.CANCELLED).exists()


def _queue(job: ImportJob) -> None:
    # Imported here: the task module imports the services (send by name otherwise).
    from segments.tasks import run_import

    transaction.on_commit(lambda: run_import.delay(job.pk))


def _kept(job: ImportJob) -> bool:
    return bool(job.file.name) and job.file.storage.exists(job.file.name or "")


def _check_segment(segment: Segment) -> None:
    if segment.archived:
        raise ValidationError(
            f'Segment "{segment.name}" is archived; restore it to import members.'
        )


def _check_size(file: IO[bytes]) -> None:
    size, limit = _size(file), settings.IMPORT_MAX_FILE_BYTES
    if size > limit:
        raise refuse(
            f"The file has {size:,} bytes; the limit is {limit:,} bytes. "
            "Split it into smaller files."
        )


def _printable(filename: str) -> str:
    """The file's name as shown and stored: no control characters, 255 at most."""
    return "".join(ch for ch in filename if ch.isprintable())[:255] or "upload"


def _size(file) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
        file.seek(0)
    return size


def _position(raw, size: int) -> int:
    try:
        return min(raw.tell(), size)
    except (OSError, ValueError):
        return 0


def _actor_fields(actor: Actor) -> dict:
    return {
        "actor_type": actor.type,
        "actor_label": actor.label,
        "actor_user": actor.user,
        "actor_api_key": actor.api_key,
    }


def _actor_of(job: ImportJob) -> Actor:
    """The actor who started the job, for the history: always a CSV import."""
    return Actor(
        Actor.Type.CSV,
        f"csv: {job.filename}",
        user=job.actor_user,
        api_key=job.actor_api_key,
    )


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return exc.messages
