"""Files of the import corpus, and one way to run an import through the service."""

import io

from openpyxl import Workbook

from segments.models import ImportJob
from segments.services import Actor
from segments.services.imports import import_job_create, import_job_run


def csv_bytes(*lines: str, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


def xlsx_bytes(*rows: tuple) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(content: bytes, name: str = "members.csv") -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def run(segment, content: bytes, *, name: str = "members.csv", **options):
    """Create and run an import job as the command does; the job, reloaded."""
    job = import_job_create(
        segment=segment,
        file=upload(content, name),
        filename=name,
        actor=options.pop("actor", None) or Actor.system("tests"),
        queue=False,
        **options,
    )
    import_job_run(job_id=job.pk)
    return ImportJob.objects.get(pk=job.pk)


def issues(job) -> list[tuple[int, str, str]]:
    return list(job.issues.order_by("line").values_list("line", "kind", "value"))
