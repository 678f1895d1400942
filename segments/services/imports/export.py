"""A segment's members written as a file: CSV streamed as it is read from the
database, XLSX through openpyxl's write-only mode (rows go to disk, not memory)."""

import codecs
import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from segments.selectors import segment_export_rows

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
MEMORY_BYTES = 8 * 1024 * 1024


def export_file(*, segment, format: str, attributes=()) -> tuple[Iterable[bytes], str]:
    """The members of `segment` as a file in `format` ("csv" or "xlsx"): its
    content (an iterable of bytes, read as it is sent) and its file name."""
    rows = segment_export_rows(segment=segment, attributes=list(attributes))
    name = f"segment-{segment.pk}-members.{format}"
    if format == "xlsx":
        return _chunks(xlsx_file(rows)), name
    return csv_chunks(rows), name


def csv_chunks(rows: Iterable[list[str]], batch: int = 1_000) -> Iterator[bytes]:
    """UTF-8 with a BOM, so that Excel reads the accents right; CRLF as RFC 4180."""
    yield codecs.BOM_UTF8
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % batch == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_file(rows: Iterable[list[str]]) -> IO[bytes]:
    from openpyxl import Workbook  # only XLSX exports need it
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("members")
    for row in rows:
        # XLSX cannot hold most control characters (openpyxl refuses the cell): they
        # are left out, where a CSV keeps them.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row])
    # Handed to the response, which closes it once sent.
    out = tempfile.SpooledTemporaryFile(max_size=MEMORY_BYTES)  # noqa: SIM115
    book.save(out)
    out.seek(0)
    return out


def _chunks(file: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    with file:
        while chunk := file.read(size):
            yield chunk
