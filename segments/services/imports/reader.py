"""Reading an uploaded file as a header and numbered rows, streamed: CSV in any of
the encodings marketers' tools write, or XLSX. Anything else is refused with a
sentence that says what is wrong and what to do."""

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from charset_normalizer import from_bytes
from django.core.exceptions import ValidationError

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
# Multi-byte encodings of Asian languages, which charset_normalizer names reliably
# (on a short sample it cannot tell single-byte code pages apart).
MULTIBYTE = ("cp932", "shift_jis", "euc", "gb", "big5", "cp949", "cp950", "iso2022")
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
}
Row = tuple[int, list[str]]  # (line number in the file, cells)


def refuse(message: str) -> ValidationError:
    return ValidationError({"file": message})


@dataclass
class Table:
    """A file's header and its rows, read as they are iterated."""

    format: str  # "csv" or "xlsx"
    encoding: str  # as people name it: "UTF-8", "Windows-1252", "XLSX"
    header: list[str]
    rows: Iterator[Row]


def read_table(raw: IO[bytes]) -> Table:
    """The table in `raw` (a binary file at its start). Raises ValidationError on
    the file: empty, not text, an encoding we do not read, no header, no rows."""
    sample = raw.read(SAMPLE_BYTES)
    raw.seek(0)
    if not sample.strip():
        raise refuse("The file is empty.")
    if sample.startswith(XLS_MAGIC):
        raise refuse(
            "This is an old Excel .xls file; save it as .xlsx or CSV and upload again."
        )
    if sample.startswith(XLSX_MAGIC):
        return _with_rows(_xlsx_table(raw))
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
    first = _first_line(sample, encoding)
    reader = csv.reader(text, delimiter=_delimiter(first), strict=True)
    return _with_rows(
        Table("csv", ENCODING_NAMES.get(encoding, encoding), [], _csv_rows(reader))
    )


def detect_encoding(sample: bytes) -> str:
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            return encoding
    if b"\x00" in sample:
        return _utf16_without_bom(sample)
    if _is_utf8(sample):
        return "utf-8"
    if _looks_binary(sample):
        raise _not_text()
    guess = from_bytes(sample).best()
    name = guess.encoding if guess else "an unknown encoding"
    if not name.startswith(MULTIBYTE) and _decodes(sample, "cp1252"):
        return "cp1252"  # Excel's "CSV" in Western Europe and the Americas
    raise refuse(
        f"The file looks encoded as {name}, which we do not read; save it as "
        "CSV UTF-8 (in Excel: Save As > CSV UTF-8) and upload again."
    )


def _utf16_without_bom(sample: bytes) -> str:
    """Text in UTF-16 has a NUL in every other byte (for Latin text): in the odd
    bytes when little-endian, the even ones when big-endian. Any other NUL is
    binary."""
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.4 and not even.count(0):
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and not odd.count(0):
        return "utf-16-be"
    raise _not_text()


def _is_utf8(sample: bytes) -> bool:
    try:
        # A character cut at the sample's end is no reason to doubt the rest.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _looks_binary(sample: bytes) -> bool:
    controls = sum(1 for b in sample if b < 32 and b not in b"\t\r\n\x0c")
    return controls > len(sample) * 0.01


def _not_text() -> ValidationError:
    return refuse(
        "The file is not text: it holds binary data. Upload a CSV or XLSX file."
    )


def _first_line(sample: bytes, encoding: str) -> str:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample)
    return text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""


def _delimiter(line: str) -> str:
    """The separator the header uses most; a one-column file has none."""
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(reader) -> Iterator[Row]:
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise refuse(
            f"Line {line} (or the lines near it) is not valid in the file's encoding "
            f"({exc.encoding}); save the file as CSV UTF-8 and upload again."
        ) from exc
    except csv.Error as exc:
        raise refuse(f"Line {line} is not valid CSV: {exc}.") from exc


def _xlsx_table(raw: IO[bytes]) -> Table:
    from openpyxl import load_workbook  # only XLSX uploads need it

    try:
        book = load_workbook(raw, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken archive
        raise refuse(
            "The file looks like XLSX but cannot be opened; save it again from "
            "Excel as .xlsx or CSV."
        ) from exc
    return Table("xlsx", "XLSX", [], _xlsx_rows(book.worksheets[0]))


def _xlsx_rows(sheet) -> Iterator[Row]:
    line = 0
    try:
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(v not in (None, "") for v in values):
                yield line, [_cell_text(v) for v in values]
    except Exception as exc:  # the sheet's XML is read as the rows are
        raise refuse(
            f"Row {line + 1} of the XLSX file cannot be read; save it again from "
            "Excel as .xlsx or CSV."
        ) from exc


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _with_rows(table: Table) -> Table:
    """Take the header off the rows; refuse a file with no header or no rows."""
    rows = iter(table.rows)
    first = next(rows, None)
    if first is None:
        raise refuse("The file is empty.")
    second = next(rows, None)
    if second is None:
        raise refuse("The file has a header but no rows.")
    table.header = [cell.strip().lstrip("\ufeff") for cell in first[1]]
    table.rows = itertools.chain([second], rows)
    return table
