"""Import a CSV or XLSX file of customer ids into a segment, here and now."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from segments.models import ImportJob, Segment
from segments.selectors import IdType
from segments.services import Actor
from segments.services.imports import import_job_create, import_job_run


class Command(BaseCommand):
    help = (
        "Add the customers listed in FILE (CSV or XLSX, with a header) to SEGMENT "
        "(its id or name). Prints where every row went; see docs/imports.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("segment", help="The segment's id or name.")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--id-type",
            choices=IdType.values,
            help="What the id column holds (default: found from its header).",
        )
        parser.add_argument("--id-column", default="", help="The id column's header.")
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="Create unknown customers; update customers from the other columns.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, but change nothing."
        )

    def handle(self, *args, segment, file, **options):
        target = _segment(segment)
        if not file.is_file():
            raise CommandError(f"No file at {file}.")
        with file.open("rb") as raw:
            try:
                job = import_job_create(
                    segment=target,
                    file=raw,
                    filename=file.name,
                    actor=Actor.system("import_members"),
                    id_type=options["id_type"],
                    id_column=options["id_column"],
                    create_missing=options["create_missing"],
                    dry_run=options["dry_run"],
                    queue=False,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        job = import_job_run(job_id=job.pk) or job
        self._report(job)

    def _report(self, job: ImportJob) -> None:
        if job.status != ImportJob.Status.DONE:
            raise CommandError(
                f"Import {job.get_status_display().lower()}: {job.error}"
            )
        verb = "Would add" if job.dry_run else "Added"
        self.stdout.write(
            f"{verb} {job.added:,} of {job.rows_total:,} rows to {job.segment.name}."
        )
        for name, label in ImportJob.COUNTS:
            self.stdout.write(f"  {label}: {getattr(job, name):,}")
        if job.created:
            self.stdout.write(f"  customers created: {job.created:,}")
        for issue in job.issues.order_by("line")[:20]:
            reason = issue.reason or issue.get_kind_display()
            self.stdout.write(f"  line {issue.line}: {issue.value!r}: {reason}")


def _segment(value: str) -> Segment:
    found = Segment.objects.filter(name__iexact=value).first()
    if found is None and value.isdigit():
        found = Segment.objects.filter(pk=int(value)).first()
    if found is None:
        raise CommandError(f"No segment with id or name {value!r}.")
    return found
